import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { expect, test } from './fixtures';
import {
  badgeLocator,
  cellLocator,
  expectBadgeStatus,
  openNotebook,
  outputLocator,
  promptLocator,
  reloadWithNotebook,
  restartServerWhileAway,
  RUN_TIMEOUT,
  runCell,
  userDisplayName,
  userName
} from './helpers';

/**
 * A cell whose every run prints its own number.
 */
const COUNTING = ["n = globals().get('n', 0) + 1", "print(f'run {n}')"].join(
  '\n'
);

// Each browser context is its own anonymous user on the server: show that user.
test.use({ mockUser: false });

/**
 * Run the first cell until it printed `times` runs.
 */
async function runThreeTimes(page: IJupyterLabPageFixture): Promise<void> {
  for (const run of [1, 2, 3]) {
    await runCell(page, 0);
    await expect(outputLocator(page, 0)).toHaveText(`run ${run}`, {
      timeout: RUN_TIMEOUT
    });
    await expectBadgeStatus(page, 0, 'ok');
  }
}

/**
 * The history of a cell, opened from its badge.
 */
async function openCellHistory(
  page: IJupyterLabPageFixture,
  index: number
): Promise<Locator> {
  const button = badgeLocator(page, index).getByRole('button', {
    name: 'Run history of this cell'
  });
  await expect(button).toBeVisible({ timeout: RUN_TIMEOUT });
  await button.click();
  const view = page.locator('.jp-CollabExec-cellHistory:visible');
  await expect(view).toBeVisible();
  return view;
}

function runOptions(view: Locator): Locator {
  return view.getByRole('listbox').getByRole('option');
}

/**
 * The runs of a list, as `<status> · <who>` or `Restored by <who>` lines.
 */
function runLabels(view: Locator): Locator {
  return view.locator('.jp-CollabExec-historyRunLabel');
}

test.describe('Run history', () => {
  test('B restores the first of three runs by A, both see it, and the Activity panel goes to the cell', async ({
    page,
    collab
  }) => {
    test.setTimeout(180000);
    const { path, other: userB } = await collab.openForTwo('history.ipynb', [
      COUNTING,
      "print('another cell')"
    ]);
    const nameA = await userDisplayName(page);
    expect(await userName(page)).not.toBe(await userName(userB));

    await runThreeTimes(page);
    await runCell(page, 1);
    await expect(outputLocator(page, 1)).toHaveText('another cell', {
      timeout: RUN_TIMEOUT
    });
    await expect(outputLocator(userB, 0)).toHaveText('run 3');

    // B opens the cell's history from its badge: three runs by A, newest first.
    const view = await openCellHistory(userB, 0);
    await expect(runOptions(view)).toHaveCount(3, { timeout: RUN_TIMEOUT });
    await expect(runLabels(view)).toHaveText([
      `Finished · ${nameA}`,
      `Finished · ${nameA}`,
      `Finished · ${nameA}`
    ]);
    await expect(view.locator('.jp-CollabExec-historyRunPrompt')).toHaveText([
      '[3]',
      '[2]',
      '[1]'
    ]);
    // The newest is shown; the keyboard goes to the oldest.
    const detail = view.locator('.jp-CollabExec-historyDetail');
    await expect(detail.locator('.jp-OutputArea')).toHaveText('run 3');
    await view.getByRole('listbox').focus();
    await userB.keyboard.press('End');
    await expect(runOptions(view).nth(2)).toHaveAttribute(
      'aria-selected',
      'true'
    );
    await expect(detail.locator('.jp-OutputArea')).toHaveText('run 1');
    await expect(detail.locator('.jp-CollabExec-historyFacts')).toContainText(
      `Finished, run by ${nameA}.`
    );
    await expect(detail.locator('.jp-CollabExec-historySource')).toHaveText(
      COUNTING
    );

    // The source against the cell's now: A edits the cell.
    await cellLocator(page, 0).locator('.jp-Editor').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type("\nprint('edited')");
    await expect(
      detail.locator('.jp-CollabExec-historySource ins')
    ).toContainText("print('edited')");

    // B restores the first run: both views show its outputs and execution count.
    await detail.getByRole('button', { name: 'Restore these outputs' }).click();
    await expect(detail.locator('.jp-CollabExec-historyNotice')).toContainText(
      'Restored'
    );
    for (const user of [page, userB]) {
      await expect(outputLocator(user, 0)).toHaveText('run 1');
      await expect(promptLocator(user, 0)).toHaveText('[1]:');
    }
    // The restore is the newest entry of the cell's history, live.
    const nameB = await userDisplayName(userB);
    await expect(runOptions(view)).toHaveCount(4, { timeout: RUN_TIMEOUT });
    await expect(runLabels(view).first()).toHaveText(`Restored by ${nameB}`);

    // A's Activity panel lists the notebook's runs and goes to a run's cell.
    await page.sidebar.openTab('jp-CollabExec-activity');
    const activity = page.locator('#jp-CollabExec-activity');
    await expect(runOptions(activity)).toHaveCount(5, {
      timeout: RUN_TIMEOUT
    });
    await expect(activity.locator('.jp-CollabExec-historyRunCell')).toHaveText([
      'Cell 1',
      'Cell 2',
      'Cell 1',
      'Cell 1',
      'Cell 1'
    ]);
    await cellLocator(page, 0).click({ position: { x: 15, y: 5 } });
    await runOptions(activity).nth(1).click();
    await expect(cellLocator(page, 1)).toHaveClass(/jp-mod-active/);
    await expect(cellLocator(page, 0)).not.toHaveClass(/jp-mod-active/);
    // Filtered by person: B only restored.
    await activity.getByLabel('Runs by').selectOption({ label: nameB });
    await expect(runLabels(activity)).toHaveText([`Restored by ${nameB}`]);

    // After a reload, the history is still there.
    await reloadWithNotebook(userB, path);
    const reloaded = await openCellHistory(userB, 0);
    await expect(runOptions(reloaded)).toHaveCount(4, {
      timeout: RUN_TIMEOUT
    });
  });

  test('the history is still there after a server restart @server-restart', async ({
    page,
    baseURL,
    collab,
    request
  }) => {
    test.setTimeout(180000);
    const path = await collab.open('history-restart.ipynb', [COUNTING]);
    const nameA = await userDisplayName(page);
    await runThreeTimes(page);

    await restartServerWhileAway(page, request, baseURL!);
    // Opened by path: the workspace may not have been saved with it before the restart.
    await openNotebook(page, path);

    const view = await openCellHistory(page, 0);
    await expect(runOptions(view)).toHaveCount(3, { timeout: RUN_TIMEOUT });
    await expect(runLabels(view)).toHaveText(
      Array(3).fill(`Finished · ${nameA}`)
    );
    await expect(
      view.locator('.jp-CollabExec-historyDetail .jp-OutputArea')
    ).toHaveText('run 3');
  });
});
