import { expect, test } from './fixtures';
import {
  outputLocator,
  promptLocator,
  reloadWithNotebook,
  RUN_TIMEOUT,
  runCell,
  serverRequestCount
} from './helpers';

const THREE_LINES = [
  'import time',
  'for i in range(3):',
  "    print(f'line {i}', flush=True)",
  '    time.sleep(1)'
].join('\n');

const SIX_STEPS = [
  'import time',
  'for i in range(6):',
  "    print(f'step {i}', flush=True)",
  '    time.sleep(0.5)'
].join('\n');

test.describe('Server-side execution shared by two users', () => {
  test('B sees every line and the execution count of the cell A runs', async ({
    page,
    collab
  }) => {
    const { other: guest } = await collab.openForTwo('three-lines.ipynb', [
      THREE_LINES
    ]);

    await runCell(page, 0);

    await expect(outputLocator(guest, 0)).toHaveText(
      /line 0\s*line 1\s*line 2/,
      { timeout: RUN_TIMEOUT }
    );
    await expect(promptLocator(guest, 0)).toHaveText('[1]:', {
      timeout: RUN_TIMEOUT
    });
    await expect(promptLocator(page, 0)).toHaveText('[1]:');
    await expect(outputLocator(page, 0)).toHaveText(/line 0\s*line 1\s*line 2/);
    expect(await serverRequestCount(page)).toBe(1);
    expect(await serverRequestCount(guest)).toBe(1);
  });

  test('A reloads during a run and then sees every output', async ({
    page,
    collab
  }) => {
    const { path, other: guest } = await collab.openForTwo('reload.ipynb', [
      SIX_STEPS,
      "print('second run')"
    ]);

    await runCell(page, 0);
    await expect(promptLocator(page, 0)).toHaveText('[1]:', {
      timeout: RUN_TIMEOUT
    });
    // The second run: A reloads while it prints.
    await runCell(page, 0);
    await expect(outputLocator(page, 0)).toHaveText(/step 1/, {
      timeout: RUN_TIMEOUT
    });
    await reloadWithNotebook(page, path);

    const allSteps = /step 0\s*step 1\s*step 2\s*step 3\s*step 4\s*step 5/;
    await expect(outputLocator(page, 0)).toHaveText(allSteps, {
      timeout: RUN_TIMEOUT
    });
    await expect(promptLocator(page, 0)).toHaveText('[2]:', {
      timeout: RUN_TIMEOUT
    });
    await expect(outputLocator(guest, 0)).toHaveText(allSteps);
    expect(await serverRequestCount(page)).toBe(2);
  });
});
