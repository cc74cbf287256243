/**
 * Notebook 7 with the project (the `notebook` project): its plugins are active and the
 * executors they replace are not, its pages log no error of the project, and one notebook
 * is shared by a Notebook 7 user and a JupyterLab user.
 */
import type { ConsoleMessage } from '@playwright/test';

import { expect, test } from './fixtures';
import {
  answerInput,
  badgeLocator,
  cellLocator,
  expectBadgeStatus,
  inputBoxLocator,
  kernelStateLocator,
  outputLocator,
  promptLocator,
  runByPattern,
  runCell,
  RUN_TIMEOUT,
  userDisplayName
} from './helpers';

const PLUGINS = [
  'jupyterlab-collab-exec:client',
  'jupyterlab-collab-exec:plugin',
  'jupyterlab-collab-exec:executor',
  'jupyterlab-collab-exec:status',
  'jupyterlab-collab-exec:input',
  'jupyterlab-collab-exec:trust',
  'jupyterlab-collab-exec:widgets',
  'jupyterlab-collab-exec:history'
];

const REPLACED_EXECUTORS = [
  '@jupyterlab/notebook-extension:cell-executor',
  '@jupyter/docprovider-extension:notebook-cell-executor'
];

const SLOW = 'import time\ntime.sleep(60)';

// Each browser context is its own user on the server.
test.use({ mockUser: false });

test.describe('Notebook 7', () => {
  test("the project's plugins are active, and the executors they replace are absent", async ({
    page
  }) => {
    const state = await page.evaluate(
      ([plugins, replaced]) => ({
        activated: plugins.filter(id =>
          window.galata.app.isPluginActivated(id)
        ),
        registered: replaced.filter(id => window.galata.app.hasPlugin(id))
      }),
      [PLUGINS, REPLACED_EXECUTORS]
    );
    expect(state.activated).toEqual(PLUGINS);
    expect(state.registered).toEqual([]);
  });

  test('its pages log no error of the project', async ({
    page,
    collab,
    tmpPath
  }) => {
    const path = await collab.create('pages.ipynb', ["print('pages')"]);
    const errors: string[] = [];
    const ours = /collab-exec|collab_exec|CollabExec/i;
    page.on('console', (message: ConsoleMessage) => {
      const where = message.location().url ?? '';
      if (
        message.type() === 'error' &&
        (ours.test(message.text()) || ours.test(where))
      ) {
        errors.push(`${page.url()}: ${message.text()}`);
      }
    });
    page.on('pageerror', error => {
      if (ours.test(`${error.message}\n${error.stack ?? ''}`)) {
        errors.push(`${page.url()}: ${error.message}`);
      }
    });
    for (const address of [
      `tree/${tmpPath}`,
      `notebooks/${path}`,
      `edit/${path}`,
      `consoles/${tmpPath}/console`
    ]) {
      await page.goto(address);
      await expect(page.locator('#main-panel')).toBeVisible();
      // Let the plugins act on the page: a notebook's kernel starts, a console's too.
      await page.waitForLoadState('networkidle');
    }
    expect(errors).toEqual([]);
  });

  test('a cell run in Notebook 7 shows in JupyterLab, and an input asked in JupyterLab is answered in Notebook 7', async ({
    page,
    collab
  }) => {
    const path = await collab.open('cross-ui.ipynb', [
      "print('from Notebook 7')",
      "name = input('Name?')\nprint('hello', name)"
    ]);
    const lab = await collab.otherUser(path, 'lab');

    await runCell(page, 0);
    await expectBadgeStatus(lab, 0, 'ok');
    await expect(outputLocator(lab, 0)).toHaveText(/from Notebook 7/);
    await expect(badgeLocator(lab, 0)).toHaveText(
      runByPattern(await userDisplayName(page))
    );

    await runCell(lab, 1);
    await answerInput(page, 1, 'Name?', 'Ada');
    await expect(outputLocator(lab, 1)).toContainText('hello Ada', {
      timeout: RUN_TIMEOUT
    });
    await expectBadgeStatus(page, 1, 'ok');
    await expect(inputBoxLocator(lab, 1)).toHaveCount(0);
  });

  test("a cell's run history opens in Notebook 7's side panel", async ({
    page,
    collab
  }) => {
    await collab.open('history-notebook7.ipynb', ["print('kept')"]);
    for (const count of [1, 2]) {
      await runCell(page, 0);
      await expect(promptLocator(page, 0)).toHaveText(`[${count}]:`, {
        timeout: RUN_TIMEOUT
      });
    }
    await badgeLocator(page, 0)
      .getByRole('button', { name: 'Run history of this cell' })
      .click();
    const history = page.locator('#jp-right-stack .jp-CollabExec-cellHistory');
    await expect(history.getByRole('option')).toHaveCount(2, {
      timeout: RUN_TIMEOUT
    });
    await expect(
      history.locator('.jp-CollabExec-historyDetail .jp-OutputArea')
    ).toHaveText('kept');
  });

  test('a slider run in Notebook 7 renders in JupyterLab, and moves in both', async ({
    page,
    collab
  }) => {
    const path = await collab.open('slider.ipynb', [
      'from ipywidgets import IntSlider\nIntSlider(value=3)'
    ]);
    const lab = await collab.otherUser(path, 'lab');
    await runCell(page, 0);
    const readouts = [page, lab].map(view =>
      cellLocator(view, 0).locator('.widget-slider .widget-readout')
    );
    for (const readout of readouts) {
      await expect(readout).toHaveText('3', { timeout: RUN_TIMEOUT });
    }
    // Typed into JupyterLab's readout, as a user can instead of dragging.
    await readouts[1].click();
    await lab.keyboard.press('Control+A');
    await lab.keyboard.type('42');
    await lab.keyboard.press('Enter');
    await expect(readouts[0]).toHaveText('42', { timeout: RUN_TIMEOUT });
  });

  test("Notebook 7's kernel menu interrupts and restarts with the documented request states", async ({
    page,
    collab
  }) => {
    await collab.open('kernel-menu.ipynb', [SLOW, "print('queued')"]);

    // Galata follows the kernels through a route that reads every POST under
    // /api/kernels as JSON, and fails the test on the interrupt's empty answer (204).
    // The notebook's kernel is tracked already, through its session.
    await page.unroute(/.*\/api\/kernels(?!pecs)(?<id>\/[@:\-\w]+)?/);

    // Interrupt: the running request is interrupted, the queued one cancelled.
    await runCell(page, 0);
    await runCell(page, 1);
    await expectBadgeStatus(page, 0, 'running');
    await page.menu.clickMenuItem('Kernel>Interrupt Kernel');
    await expectBadgeStatus(page, 0, 'interrupted');
    await expectBadgeStatus(page, 1, 'cancelled');

    // Restart: the same.
    await runCell(page, 0);
    await runCell(page, 1);
    await expectBadgeStatus(page, 0, 'running');
    await page.menu.clickMenuItem('Kernel>Restart Kernel…');
    await page
      .locator('.jp-Dialog')
      .getByRole('button', { name: 'Confirm Kernel Restart' })
      .click();
    await expectBadgeStatus(page, 0, 'interrupted');
    await expectBadgeStatus(page, 1, 'cancelled');
    // The restarted kernel is up before the test's folder goes.
    await expect(kernelStateLocator(page)).toHaveText('Idle', {
      timeout: RUN_TIMEOUT
    });
  });
});
