import { expect, test } from './fixtures';
import {
  badgeLocator,
  expectBadgeStatus,
  openNotebook,
  outputLocator,
  promptLocator,
  queueToolbarLocator,
  RUN_TIMEOUT,
  runByPattern,
  runCell,
  savedCell,
  selectCells,
  setCollabExecSetting,
  userDisplayName,
  userName
} from './helpers';

const TEN_SECONDS = [
  'import time',
  'for i in range(10):',
  "    print(f'second {i}', flush=True)",
  '    time.sleep(1)'
].join('\n');

const ALL_TEN_LINES = new RegExp(
  Array.from({ length: 10 }, (_, i) => `second ${i}`).join('\\s*')
);

const SLEEP_FIVE = ['import time', 'time.sleep(5)', "print('slept')"].join(
  '\n'
);

// Each browser context is its own anonymous user on the server: show that user.
test.use({ mockUser: false });

test.describe('Execution status read from the shared document', () => {
  test('B opens the notebook after A left and the cell finished, and sees everything and who ran it', async ({
    page,
    request,
    collab
  }) => {
    const path = await collab.create('ten-seconds.ipynb', [TEN_SECONDS]);

    // A, in their own browser context, starts the cell.
    const userA = await collab.otherUser(path);
    const nameA = await userDisplayName(userA);
    expect(nameA).not.toBe('');
    // Another person than B (anonymous display names may repeat).
    expect(await userName(userA)).not.toBe(await userName(page));

    await runCell(userA, 0);
    await expectBadgeStatus(userA, 0, 'running');
    await expect(badgeLocator(userA, 0)).toContainText(nameA);
    await expect(outputLocator(userA, 0)).toContainText('second 0', {
      timeout: RUN_TIMEOUT
    });

    // A closes the page; B (the `page` fixture) has not opened the notebook.
    await userA.close();

    // The cell has finished once the saved file has its execution count.
    await expect
      .poll(async () => (await savedCell(request, path, 0))?.execution_count, {
        timeout: 60000,
        message: 'the notebook is saved with the execution count'
      })
      .toBe(1);

    await openNotebook(page, path);
    await expect(outputLocator(page, 0)).toHaveText(ALL_TEN_LINES, {
      timeout: RUN_TIMEOUT
    });
    await expect(promptLocator(page, 0)).toHaveText('[1]:');
    const badge = badgeLocator(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    await expect(badge).toHaveText(runByPattern(nameA, 'i'));
    await expect(badge).toHaveAttribute('role', 'status');
  });

  test('Queued cells show their position to both users', async ({
    page,
    collab
  }) => {
    const { other: userB } = await collab.openForTwo('queue.ipynb', [
      SLEEP_FIVE,
      "print('first queued')",
      "print('second queued')"
    ]);
    const nameA = await userDisplayName(page);

    await runCell(page, 0);
    for (const user of [page, userB]) {
      await expectBadgeStatus(user, 0, 'running');
    }
    // Both cells in one run: one batch, queued behind the running cell.
    await selectCells(page, 1, 2);
    await page.keyboard.press('Control+Enter');

    for (const user of [page, userB]) {
      await expect(badgeLocator(user, 0)).toHaveAttribute(
        'data-status',
        'running'
      );
      await expect(badgeLocator(user, 0)).toContainText(nameA);
      await expectBadgeStatus(user, 1, 'queued', 10000);
      await expect(badgeLocator(user, 1)).toHaveText('Queued (1 of 2)');
      await expect(badgeLocator(user, 2)).toHaveText('Queued (2 of 2)');
      await expect(queueToolbarLocator(user)).toContainText('2 queued');
      await expect(
        queueToolbarLocator(user).getByRole('button', { name: 'Cancel queued' })
      ).toBeEnabled();
    }

    for (const user of [page, userB]) {
      for (const index of [0, 1, 2]) {
        await expectBadgeStatus(user, index, 'ok');
        await expect(badgeLocator(user, index)).toHaveText(runByPattern(nameA));
      }
      await expect(outputLocator(user, 2)).toHaveText('second queued');
      await expect(queueToolbarLocator(user)).toContainText('Queue empty');
      await expect(
        queueToolbarLocator(user).getByRole('button', { name: 'Cancel queued' })
      ).toBeDisabled();
    }
  });
  test('B cancels the cells A queued', async ({ page, collab }) => {
    const { other: userB } = await collab.openForTwo('cancel.ipynb', [
      SLEEP_FIVE,
      "print('never')",
      "print('never either')"
    ]);

    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'running');
    await selectCells(page, 1, 2);
    await page.keyboard.press('Control+Enter');
    await expect(badgeLocator(userB, 2)).toHaveText('Queued (2 of 2)', {
      timeout: 10000
    });

    const cancel = queueToolbarLocator(userB).getByRole('button', {
      name: 'Cancel queued'
    });
    await expect(cancel).toBeEnabled();
    await cancel.click();

    for (const user of [page, userB]) {
      for (const index of [1, 2]) {
        await expect(badgeLocator(user, index)).toHaveAttribute(
          'data-status',
          'cancelled'
        );
        await expect(badgeLocator(user, index)).toHaveText('Cancelled');
      }
      await expect(queueToolbarLocator(user)).toContainText('Queue empty');
    }
    // The running cell is not cancelled.
    for (const user of [page, userB]) {
      await expectBadgeStatus(user, 0, 'ok');
      await expect(outputLocator(user, 0)).toHaveText('slept');
      await expect(outputLocator(user, 1)).toHaveText('');
    }
  });
  test('The badges follow the showStatusBadges setting, live', async ({
    page,
    collab
  }) => {
    await collab.open('setting.ipynb', ["print('hello')"]);
    const nameA = await userDisplayName(page);
    await runCell(page, 0);
    const badge = badgeLocator(page, 0);
    await expect(badge).toHaveText(runByPattern(nameA), {
      timeout: RUN_TIMEOUT
    });

    await setCollabExecSetting(page, 'showStatusBadges', false);
    await expect(badge).toBeHidden();
    // The toolbar item stays.
    await expect(queueToolbarLocator(page)).toContainText('Queue empty');

    await setCollabExecSetting(page, 'showStatusBadges', true);
    await expect(badge).toBeVisible();
    await expect(badge).toHaveText(runByPattern(nameA));
  });
});
