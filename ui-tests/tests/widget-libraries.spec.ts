/**
 * The widget libraries people use beside ipywidgets' controls, run by A on the server and
 * seen by B: anywidget (a counter defined inline with `_esm`), ipympl (`%matplotlib
 * widget`) and bqplot (numpy arrays, a mark's `y` updated from the kernel). B renders each
 * live, B's input reaches the kernel where the widget takes any, a second view of the same
 * model renders, B's reload renders it again, and a third user who opens the notebook once
 * the kernel is gone sees it frozen, in a page where theirs is the first widget manager.
 * No browser logs a widget state error.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator } from '@playwright/test';

import { expect, type ICollab, test } from './fixtures';
import {
  cellLocator,
  expectBadgeStatus,
  openWithoutKernel,
  outputLocator,
  reloadWithNotebook,
  RUN_TIMEOUT,
  runCell,
  sessionOf
} from './helpers';
import {
  collectWidgetStateErrors,
  expectNoWidgetError,
  openForTwoWatched
} from './widgetViews';

const COUNTER = [
  'import anywidget, traitlets',
  'class Counter(anywidget.AnyWidget):',
  '    _esm = """',
  '    function render({ model, el }) {',
  "      const button = document.createElement('button');",
  "      button.className = 'counter-button';",
  '      const show = () => { button.textContent = `count is ${model.get("value")}`; };',
  "      button.addEventListener('click', () => {",
  "        model.set('value', model.get('value') + 1);",
  '        model.save_changes();',
  '      });',
  "      model.on('change:value', show);",
  '      show();',
  '      el.appendChild(button);',
  '    }',
  '    export default { render };',
  '    """',
  '    value = traitlets.Int(0).tag(sync=True)',
  'counter = Counter(value=3)',
  'counter'
].join('\n');

// Not shown when made (ioff): the cell's one view is its last line's.
const FIGURE = [
  '%matplotlib widget',
  'import matplotlib.pyplot as plt',
  'plt.ioff()',
  'fig, ax = plt.subplots(figsize=(4, 3))',
  'ax.plot([1, 2, 3], [3, 1, 2])',
  'fig.canvas'
].join('\n');

const LINES = [
  'import numpy as np',
  'import bqplot.pyplot as bplt',
  "figure = bplt.figure(title='squares')",
  'line = bplt.plot(np.arange(10), np.arange(10) ** 2)',
  'figure'
].join('\n');

function counter(page: IJupyterLabPageFixture, cell: number): Locator {
  return cellLocator(page, cell).locator('button.counter-button');
}

function canvas(page: IJupyterLabPageFixture, cell: number): Locator {
  return cellLocator(page, cell).locator('.jupyter-matplotlib canvas').first();
}

function linePath(page: IJupyterLabPageFixture, cell: number): Locator {
  return cellLocator(page, cell).locator('.bqplot path.line').first();
}

// Each browser context is its own user on the server.
test.use({ mockUser: false });

test.describe('Widget libraries', () => {
  test('anywidget: a counter defined inline renders for B, counts B’s clicks in the kernel, and comes back after a reload', async ({
    page,
    collab
  }) => {
    test.setTimeout(180000);
    const {
      path,
      other: guest,
      errors
    } = await openForTwoWatched(page, collab, 'counter.ipynb', [
      COUNTER,
      'counter',
      'print(counter.value)'
    ]);
    await runCell(page, 0);
    await expect(counter(guest, 0)).toHaveText('count is 3', {
      timeout: RUN_TIMEOUT
    });
    await counter(guest, 0).click();
    await counter(guest, 0).click();
    for (const view of [page, guest]) {
      await expect(counter(view, 0)).toHaveText('count is 5', {
        timeout: RUN_TIMEOUT
      });
    }
    await runCell(page, 1);
    await runCell(page, 2);
    await expect(outputLocator(page, 2)).toHaveText('5', {
      timeout: RUN_TIMEOUT
    });
    await expect(counter(guest, 1)).toHaveText('count is 5', {
      timeout: RUN_TIMEOUT
    });
    await reloadWithNotebook(guest, path);
    for (const cell of [0, 1]) {
      await expect(counter(guest, cell)).toHaveText('count is 5', {
        timeout: RUN_TIMEOUT
      });
    }
    await expectNoWidgetError(guest);
    expect(errors).toEqual([]);
  });

  test('ipympl: a figure renders for B, B’s toolbar reaches the kernel, and it shows frozen once the kernel is gone', async ({
    page,
    collab,
    request
  }) => {
    test.setTimeout(240000);
    const {
      path,
      other: guest,
      errors
    } = await openForTwoWatched(page, collab, 'figure.ipynb', [
      FIGURE,
      'fig.canvas',
      'print(fig.canvas.toolbar.mode)'
    ]);
    await runCell(page, 0);
    await expect(canvas(guest, 0)).toBeVisible({ timeout: RUN_TIMEOUT });
    // B picks the zoom tool (the toolbar shows on hover): the kernel's toolbar takes it.
    await cellLocator(guest, 0).locator('.jupyter-matplotlib-figure').hover();
    await cellLocator(guest, 0)
      .locator('.jupyter-matplotlib-toolbar button[title^="Zoom"]')
      .click({ timeout: RUN_TIMEOUT });
    await runCell(page, 2);
    await expect(outputLocator(page, 2)).toContainText('zoom', {
      timeout: RUN_TIMEOUT
    });
    await runCell(page, 1);
    await expect(canvas(guest, 1)).toBeVisible({ timeout: RUN_TIMEOUT });
    await reloadWithNotebook(guest, path);
    await expect(canvas(guest, 0)).toBeVisible({ timeout: RUN_TIMEOUT });
    await expectNoWidgetError(guest);

    await expectFrozenForAThirdUser(collab, request, path, canvas, errors);
    expect(errors).toEqual([]);
  });

  test('bqplot: numpy lines render for B, follow the kernel’s new y, and show frozen once the kernel is gone', async ({
    page,
    collab,
    request
  }) => {
    test.setTimeout(240000);
    const {
      path,
      other: guest,
      errors
    } = await openForTwoWatched(page, collab, 'lines.ipynb', [
      LINES,
      'line.y = np.arange(10)[::-1] * 9',
      'figure'
    ]);
    await runCell(page, 0);
    await expect(linePath(guest, 0)).toBeVisible({ timeout: RUN_TIMEOUT });
    const before = await linePath(guest, 0).getAttribute('d');
    await runCell(page, 1);
    await expectBadgeStatus(page, 1, 'ok');
    for (const view of [page, guest]) {
      await expect(linePath(view, 0)).not.toHaveAttribute('d', before ?? '', {
        timeout: RUN_TIMEOUT
      });
    }
    const after = await linePath(page, 0).getAttribute('d');
    await expect(linePath(guest, 0)).toHaveAttribute('d', after ?? '');
    await runCell(page, 2);
    await expect(linePath(guest, 2)).toHaveAttribute('d', after ?? '', {
      timeout: RUN_TIMEOUT
    });
    await reloadWithNotebook(guest, path);
    await expect(linePath(guest, 0)).toHaveAttribute('d', after ?? '', {
      timeout: RUN_TIMEOUT
    });
    await expectNoWidgetError(guest);

    await expectFrozenForAThirdUser(collab, request, path, linePath, errors);
    expect(errors).toEqual([]);
  });
});

/**
 * Shut the kernel down for good, and open the notebook as a third user whose page has no
 * widget manager yet: the widget of cell 0 renders frozen.
 */
async function expectFrozenForAThirdUser(
  collab: ICollab,
  request: APIRequestContext,
  path: string,
  view: (page: IJupyterLabPageFixture, cell: number) => Locator,
  errors: string[]
): Promise<void> {
  const session = await sessionOf(request, path);
  expect((await request.delete(`/api/sessions/${session.id}`)).ok()).toBe(true);
  const third = await collab.otherUser();
  errors.push(...collectWidgetStateErrors(third));
  await openWithoutKernel(third, path);
  await expect(view(third, 0)).toBeVisible({ timeout: RUN_TIMEOUT });
  await expectNoWidgetError(third);
}
