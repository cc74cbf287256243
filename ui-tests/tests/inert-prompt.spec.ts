import type { IJupyterLabPageFixture } from '@jupyterlab/galata';

import { expect, test } from './fixtures';
import {
  cellLocator,
  inputBoxLocator,
  outputLocator,
  RUN_TIMEOUT,
  runCell
} from './helpers';

/**
 * Prompts come from the kernel, answers from anyone in the room: both are text. Markup in
 * them must show as typed, create no element and run no script, in the input widget and
 * in the echo that the output area shows afterwards.
 */
const PROMPT =
  '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';
const PASSWORD_PROMPT =
  '<img src=y onerror="window.__pwned=3"><script>window.__pwned=4</script><b>key</b>';
const ANSWER = '<i>x</i>';
const PASSWORD = 'hunter2';
const MASK = '········';

const ASK_BOTH = [
  'from getpass import getpass',
  `x = input('${PROMPT}')`,
  "print('echo', x)",
  `s = getpass('${PASSWORD_PROMPT}')`,
  "print('got', len(s), 'characters')"
].join('\n');

/**
 * Elements that markup in a prompt or an answer would create.
 */
const INJECTED = 'img, script, b, i';

async function pwned(page: IJupyterLabPageFixture): Promise<unknown> {
  return page.evaluate(
    () => (window as unknown as { __pwned?: unknown }).__pwned
  );
}

/**
 * Whether the page holds anything built from the markup: the images, or a script with
 * its code, anywhere in the document.
 */
async function injectedAnywhere(page: IJupyterLabPageFixture): Promise<{
  images: number;
  scripts: number;
}> {
  return page.evaluate(() => ({
    images: document.querySelectorAll('img[src="x"], img[src="y"]').length,
    scripts: [...document.querySelectorAll('script')].filter(script =>
      (script.textContent ?? '').includes('__pwned')
    ).length
  }));
}

test.use({ mockUser: false });

test.describe('Prompts and answers are inert text', () => {
  test('markup in an input() prompt, its answer and a getpass() prompt shows as text and runs nothing', async ({
    page,
    collab
  }) => {
    await collab.open('inert.ipynb', [ASK_BOTH]);
    await runCell(page, 0);

    // The plain prompt: its markup is the label's text, and nothing else.
    const widget = inputBoxLocator(page, 0);
    await expect(widget).toBeVisible({ timeout: RUN_TIMEOUT });
    const label = widget.locator('label');
    await expect(label).toHaveText(PROMPT, { useInnerText: true });
    await expect(label.locator('*')).toHaveCount(0);
    await expect(widget.locator(INJECTED)).toHaveCount(0);
    await expect(cellLocator(page, 0).locator(INJECTED)).toHaveCount(0);
    const box = widget.locator('input');
    await expect(box).toHaveAttribute('type', 'text');
    await expect(box).toHaveAccessibleName(PROMPT);

    // An answer with markup: the kernel gets it as typed, and every view shows it as text.
    await box.pressSequentially(ANSWER);
    await expect(box).toHaveValue(ANSWER);
    await box.press('Enter');
    const output = outputLocator(page, 0);
    await expect(output).toContainText(`${PROMPT} ${ANSWER}`, {
      timeout: RUN_TIMEOUT,
      useInnerText: true
    });
    await expect(output).toContainText(`echo ${ANSWER}`, {
      timeout: RUN_TIMEOUT,
      useInnerText: true
    });
    await expect(output.locator(INJECTED)).toHaveCount(0);

    // The password prompt, in a box of its own once the first one is answered.
    const secret = inputBoxLocator(page, 0).filter({
      has: page.locator('input[type="password"]')
    });
    await expect(secret).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(inputBoxLocator(page, 0)).toHaveCount(1);
    const secretLabel = secret.locator('label');
    await expect(secretLabel).toHaveText(PASSWORD_PROMPT, {
      useInnerText: true
    });
    await expect(secretLabel.locator('*')).toHaveCount(0);
    await expect(secret.locator(INJECTED)).toHaveCount(0);
    await expect(secret).toContainText('A password is awaited');
    const secretBox = secret.locator('input');
    await expect(secretBox).toHaveAccessibleName(PASSWORD_PROMPT);

    await secretBox.pressSequentially(PASSWORD);
    await secretBox.press('Enter');
    await expect(output).toContainText(`${PASSWORD_PROMPT} ${MASK}`, {
      timeout: RUN_TIMEOUT,
      useInnerText: true
    });
    await expect(output).toContainText(`got ${PASSWORD.length} characters`, {
      timeout: RUN_TIMEOUT
    });
    await expect(inputBoxLocator(page, 0)).toHaveCount(0);
    await expect(output).not.toContainText(PASSWORD);

    // Nothing was built from the markup, in the cell or anywhere else, and nothing ran.
    await expect(cellLocator(page, 0).locator(INJECTED)).toHaveCount(0);
    expect(await injectedAnywhere(page)).toEqual({ images: 0, scripts: 0 });
    expect(await pwned(page)).toBeUndefined();
  });
});
