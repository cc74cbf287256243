/**
 * ipywidgets in cells that the server runs, seen by two users on one notebook: the
 * notebook is uploaded unsigned, so only what the server ran makes its outputs trusted.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext } from '@playwright/test';

import { expect, test } from './fixtures';
import {
  expectNoWidgetError,
  readout,
  setSlider,
  sliders
} from './widgetViews';
import {
  cellLocator,
  expectBadgeStatus,
  openNotebook,
  openWithoutKernel,
  outputLocator,
  reloadWithNotebook,
  restartServerWhileAway,
  RUN_TIMEOUT,
  runCell,
  savedNotebook,
  sessionOf
} from './helpers';

const SLIDER = 'from ipywidgets import IntSlider\nslider = IntSlider()\nslider';

const LINKED = [
  'from ipywidgets import IntSlider, jslink',
  "a, b = IntSlider(description='a'), IntSlider(description='b')",
  "jslink((a, 'value'), (b, 'value'))",
  'display(a, b)'
].join('\n');

const INTERACT = [
  'from ipywidgets import interact',
  '_ = interact(lambda x: x * 2, x=5)'
].join('\n');

const NESTED = [
  'from ipywidgets import Button, HBox, IntSlider, VBox',
  "VBox([HBox([IntSlider(description='inner'), Button(description='go')]), IntSlider()])"
].join('\n');

/**
 * A tqdm bar that runs for about `seconds`.
 */
function progress(seconds: number): string {
  const steps = seconds * 4;
  return [
    'import time',
    'from tqdm.notebook import tqdm',
    `for _ in tqdm(range(${steps}), mininterval=0):`,
    '    time.sleep(0.25)'
  ].join('\n');
}

const LOOP =
  'slider.max = 30_000\nfor i in range(20_000):\n    slider.value = i';

/**
 * The fill of the progress bar of a cell, in percent, or null while none shows.
 */
async function barPercent(
  page: IJupyterLabPageFixture,
  cell: number
): Promise<number | null> {
  const fill = cellLocator(page, cell).locator(
    '.widget-hprogress .progress-bar'
  );
  if (!(await fill.count()) || !(await fill.first().isVisible())) {
    return null;
  }
  const width = await fill
    .first()
    .evaluate(node => (node as HTMLElement).style.width);
  return parseFloat(width);
}

/**
 * Whether the doc of the current notebook holds widget models, none of them live.
 */
function everyModelFrozen(page: IJupyterLabPageFixture): Promise<boolean> {
  return page.evaluate(() => {
    const panel = window.galata.app.shell.currentWidget as unknown as {
      content: {
        model: {
          sharedModel: {
            ydoc: { getMap: (name: string) => { toJSON: () => unknown } };
          };
        };
      };
    };
    const root = panel.content.model.sharedModel.ydoc
      .getMap('collab_widgets')
      .toJSON() as { models?: Record<string, { live: boolean }> };
    const entries = Object.values(root.models ?? {});
    return entries.length > 0 && entries.every(entry => !entry.live);
  });
}

/**
 * The widget state saved in a notebook's file, as text ('' while the server writes it).
 */
async function savedWidgets(
  request: APIRequestContext,
  path: string
): Promise<string> {
  const saved = await savedNotebook(request, path);
  return saved ? JSON.stringify(saved.metadata?.widgets ?? {}) : '';
}

/**
 * Wait until a cell shows its progress bar full, and no widget says it failed.
 */
async function expectFullBar(
  page: IJupyterLabPageFixture,
  cell: number
): Promise<void> {
  await expect
    .poll(() => barPercent(page, cell), { timeout: RUN_TIMEOUT })
    .toBe(100);
  await expectNoWidgetError(page);
}

// Each browser context is its own user on the server.
test.use({ mockUser: false });

test.describe('Widgets of server-run cells', () => {
  test('a slider that A runs renders in B, who opened the notebook untrusted', async ({
    page,
    collab
  }) => {
    const { other: guest } = await collab.openForTwo('slider.ipynb', [SLIDER]);
    await runCell(page, 0);
    for (const view of [page, guest]) {
      await expect(sliders(view, 0)).toHaveCount(1, { timeout: RUN_TIMEOUT });
      await expect(outputLocator(view, 0)).not.toContainText('IntSlider(');
      await expectNoWidgetError(view);
    }
  });

  test('each user moves a slider and the other sees it; jslink moves the linked one in both', async ({
    page,
    collab
  }) => {
    const { other: guest } = await collab.openForTwo('linked.ipynb', [
      SLIDER,
      LINKED
    ]);
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    await runCell(page, 1);
    await expect(sliders(guest, 1)).toHaveCount(2, { timeout: RUN_TIMEOUT });

    await setSlider(page, 0, 42);
    await expect(readout(guest, 0)).toHaveText('42', { timeout: RUN_TIMEOUT });
    await setSlider(guest, 0, 17);
    await expect(readout(page, 0)).toHaveText('17', { timeout: RUN_TIMEOUT });

    await setSlider(page, 1, 33);
    for (const view of [page, guest]) {
      await expect(readout(view, 1, 0)).toHaveText('33', {
        timeout: RUN_TIMEOUT
      });
      await expect(readout(view, 1, 1)).toHaveText('33', {
        timeout: RUN_TIMEOUT
      });
    }
  });

  test('interact shows its result inside the widget for both, and follows B', async ({
    page,
    collab
  }) => {
    const { other: guest } = await collab.openForTwo('interact.ipynb', [
      INTERACT
    ]);
    await runCell(page, 0);
    const result = (view: IJupyterLabPageFixture) =>
      cellLocator(view, 0).locator('.widget-interact .jp-OutputArea-output');
    for (const view of [page, guest]) {
      await expect(result(view)).toHaveText('10', { timeout: RUN_TIMEOUT });
    }
    await setSlider(guest, 0, 7);
    for (const view of [page, guest]) {
      await expect(result(view)).toHaveText('14', { timeout: RUN_TIMEOUT });
    }
    // Nothing landed in the cell outside the widget.
    for (const view of [page, guest]) {
      await expect(
        cellLocator(view, 0).locator(
          '.jp-Cell-outputArea > .jp-OutputArea-child'
        )
      ).toHaveCount(1);
    }
  });

  test('after 20,000 assignments in a loop both browsers show the final value', async ({
    page,
    collab
  }) => {
    test.setTimeout(180000);
    const { other: guest } = await collab.openForTwo('loop.ipynb', [
      SLIDER,
      LOOP
    ]);
    await runCell(page, 0);
    await expect(sliders(guest, 0)).toHaveCount(1, { timeout: RUN_TIMEOUT });
    await runCell(page, 1);
    await expectBadgeStatus(page, 1, 'ok', 120000);
    for (const view of [page, guest]) {
      await expect(readout(view, 0)).toHaveText('19999', {
        timeout: RUN_TIMEOUT
      });
    }
  });

  test('B renders a nested box while its widget code loads 3 s late', async ({
    page,
    collab
  }) => {
    const { other: guest } = await collab.openForTwo('nested.ipynb', [NESTED]);
    // The widget extension's code chunks reach B 3 s late.
    await guest
      .context()
      .route(
        '**/@jupyter-widgets/jupyterlab-manager/static/**',
        async route => {
          await new Promise(resolve => setTimeout(resolve, 3000));
          await route.continue();
        }
      );
    await runCell(page, 0);
    for (const view of [page, guest]) {
      await expect(cellLocator(view, 0).locator('.widget-vbox')).toHaveCount(
        1,
        {
          timeout: RUN_TIMEOUT
        }
      );
      await expect(sliders(view, 0)).toHaveCount(2, { timeout: RUN_TIMEOUT });
      await expectNoWidgetError(view);
    }
  });

  test('B reloads while a progress bar runs and sees it moving within 3 s', async ({
    page,
    collab
  }) => {
    test.setTimeout(180000);
    const { path, other: guest } = await collab.openForTwo('reload-bar.ipynb', [
      progress(30)
    ]);
    await runCell(page, 0);
    await expect
      .poll(() => barPercent(guest, 0), { timeout: 60000 })
      .toBeGreaterThanOrEqual(30);

    await reloadWithNotebook(guest, path);
    await expect
      .poll(() => barPercent(guest, 0), {
        timeout: 3000,
        message: 'the bar shows within 3 s of the reload'
      })
      .not.toBeNull();
    const first = (await barPercent(guest, 0)) ?? 0;
    await expect
      .poll(() => barPercent(guest, 0), {
        timeout: 3000,
        message: 'the bar moves within 3 s'
      })
      .toBeGreaterThan(first);
    await expectBadgeStatus(page, 0, 'ok', 120000);
  });

  test('a bar that ran with every tab closed shows 100 %, and stays after a kernel restart', async ({
    page,
    collab,
    request
  }) => {
    test.setTimeout(180000);
    const path = await collab.open('closed-tabs.ipynb', [progress(6)]);
    await runCell(page, 0);
    await expect
      .poll(() => barPercent(page, 0), { timeout: 60000 })
      .not.toBeNull();
    // Every tab of the notebook goes.
    await page.notebook.close(true);
    // The run ends with nobody there: the file gets the finished bar.
    await expect
      .poll(() => savedWidgets(request, path), { timeout: 60000 })
      .toContain('"bar_style":"success"');

    const later = await collab.otherUser(path);
    await expect
      .poll(() => barPercent(later, 0), { timeout: RUN_TIMEOUT })
      .toBe(100);

    // The kernel restarts: its models freeze in the doc.
    const session = await sessionOf(request, path);
    const restarted = await request.post(
      `/api/kernels/${session.kernel.id}/restart`
    );
    expect(restarted.ok()).toBe(true);
    await expect
      .poll(() => everyModelFrozen(later), {
        timeout: RUN_TIMEOUT,
        message: 'every model frozen in the doc'
      })
      .toBe(true);
    await reloadWithNotebook(later, path);
    await expectFullBar(later, 0);
  });

  test('a finished bar shows frozen after a server restart @server-restart', async ({
    page,
    baseURL,
    collab,
    request
  }) => {
    test.setTimeout(180000);
    const path = await collab.open('server-restart.ipynb', [progress(2)]);
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok', 60000);
    await expect
      .poll(() => savedWidgets(request, path), { timeout: 60000 })
      .toContain('"bar_style":"success"');

    await restartServerWhileAway(page, request, baseURL!);
    // The restored workspace reopens the notebook.
    await reloadWithNotebook(page, path);
    await expect
      .poll(() => everyModelFrozen(page), {
        timeout: RUN_TIMEOUT,
        message: 'every model frozen in the doc'
      })
      .toBe(true);
    await expectFullBar(page, 0);
  });

  test('a bar with leave=False shows nothing once closed, in the view that ran it and in a reloaded one', async ({
    page,
    collab
  }) => {
    const source = [
      'import time',
      'from tqdm.notebook import tqdm',
      'for _ in tqdm(range(8), leave=False):',
      '    time.sleep(0.25)'
    ].join('\n');
    const { path, other: guest } = await collab.openForTwo('leave.ipynb', [
      source
    ]);
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok', 60000);
    await reloadWithNotebook(guest, path);
    for (const view of [page, guest]) {
      await expect(
        cellLocator(view, 0).locator('.widget-hprogress:visible')
      ).toHaveCount(0, { timeout: RUN_TIMEOUT });
      await expectNoWidgetError(view);
    }
  });

  test('with no kernel at all, widgets render frozen from the doc, and from the saved state alone', async ({
    page,
    collab,
    request
  }) => {
    test.setTimeout(180000);
    const path = await collab.open('no-kernel.ipynb', [
      'from ipywidgets import IntSlider\nIntSlider(value=7)',
      progress(1)
    ]);
    await runCell(page, 0);
    await runCell(page, 1);
    await expectBadgeStatus(page, 1, 'ok', 60000);
    await expect
      .poll(() => savedWidgets(request, path), { timeout: 60000 })
      .toContain('"bar_style":"success"');
    // The kernel is shut down for good.
    const session = await sessionOf(request, path);
    expect((await request.delete(`/api/sessions/${session.id}`)).ok()).toBe(
      true
    );
    await expect
      .poll(() => everyModelFrozen(page), { timeout: RUN_TIMEOUT })
      .toBe(true);
    // A copy of the file has the saved state and no mirror in its doc. It is saved
    // trusted, as by someone who trusts it: untrusted, it shows the text of each widget.
    const saved = await savedNotebook(request, path);
    expect(saved, `${path} as saved`).not.toBeNull();
    for (const cell of saved!.cells ?? []) {
      if (cell.cell_type === 'code') {
        cell.metadata = { ...cell.metadata, trusted: true };
      }
    }
    const copy = path.replace('no-kernel', 'no-kernel-copy');
    const put = await request.put(`/api/contents/${copy}`, {
      data: { type: 'notebook', format: 'json', content: saved }
    });
    expect(put.ok()).toBe(true);

    const guest = await collab.otherUser();
    for (const notebook of [path, copy]) {
      await openWithoutKernel(guest, notebook);
      await expect(readout(guest, 0)).toHaveText('7', {
        timeout: RUN_TIMEOUT
      });
      await expectFullBar(guest, 1);
      await expect(
        guest.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook')
      ).not.toContainText('Loading widget');
    }
  });

  test('B opened the notebook with no kernel; A starts one and runs a slider; B moves it for both', async ({
    page,
    collab
  }) => {
    const path = await collab.create('late-kernel.ipynb', [SLIDER]);
    const guest = await collab.otherUser();
    // B opens it first, without starting a kernel.
    await openWithoutKernel(guest, path);
    await openNotebook(page, path);
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    await expect(sliders(guest, 0)).toHaveCount(1, { timeout: RUN_TIMEOUT });
    await setSlider(guest, 0, 23);
    await expect(readout(page, 0)).toHaveText('23', { timeout: RUN_TIMEOUT });
    await expectNoWidgetError(guest);
  });
});
