import { expect, test } from './fixtures';
import {
  cellLocator,
  inputBoxLocator,
  outputLocator,
  reloadWithNotebook,
  RUN_TIMEOUT,
  runCell,
  sharedInputValues
} from './helpers';

const ASK_NAME = ['name = input("Name?")', 'print(f"Hello {name}")'].join('\n');

const ASK_TWICE = [
  'first = input("First?")',
  'second = input("Second?")',
  'print(f"Got {first} and {second}")'
].join('\n');

const ASK_PASSWORD = [
  'from getpass import getpass',
  's = getpass("Password:")',
  'print(f"got {len(s)} characters")'
].join('\n');

const HTML_PROMPT = '<b>bold</b><img src=x onerror="window.__pwned=1">';
const ASK_HTML = [`x = input('${HTML_PROMPT}')`, 'print("answer", x)'].join(
  '\n'
);

// Each browser context is its own user on the server, and the page shows that user: the
// person who runs a cell is told apart from the others.
test.use({ mockUser: false });

test.describe('Collaborative input()', () => {
  test('A asks, both type, B answers, and the kernel gets what B saw', async ({
    page,
    collab
  }) => {
    const { other: userB } = await collab.openForTwo('name.ipynb', [ASK_NAME]);

    await runCell(page, 0);
    const boxA = cellLocator(page, 0).getByLabel('Name?');
    const boxB = cellLocator(userB, 0).getByLabel('Name?');
    await expect(boxA).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(boxB).toBeVisible({ timeout: RUN_TIMEOUT });
    // A ran the cell: A's box takes the focus; B's never does.
    await expect(boxA).toBeFocused();
    await expect(boxB).not.toBeFocused();

    await boxA.pressSequentially('Ada');
    await expect(boxB).toHaveValue('Ada');
    await boxB.click();
    await boxB.press('End');
    await boxB.pressSequentially(' King');
    await expect(boxA).toHaveValue('Ada King');

    // Both at once: A at the end, B at the start.
    await boxA.press('End');
    await boxB.press('Home');
    await Promise.all([
      boxA.pressSequentially('!!', { delay: 40 }),
      boxB.pressSequentially('Lady ', { delay: 40 })
    ]);
    await expect(boxA).toHaveValue('Lady Ada King!!');
    await expect(boxB).toHaveValue('Lady Ada King!!');

    const submitted = await boxB.inputValue();
    await boxB.press('Enter');
    for (const user of [page, userB]) {
      await expect(outputLocator(user, 0)).toContainText(`Name? ${submitted}`, {
        timeout: RUN_TIMEOUT
      });
      await expect(outputLocator(user, 0)).toContainText(`Hello ${submitted}`, {
        timeout: RUN_TIMEOUT
      });
      await expect(inputBoxLocator(user, 0)).toHaveCount(0);
    }
  });

  test('A reloads while an input is pending, and answers it after the reload', async ({
    page,
    collab
  }) => {
    const path = await collab.open('twice.ipynb', [ASK_TWICE]);
    await runCell(page, 0);

    const first = cellLocator(page, 0).getByLabel('First?');
    await expect(first).toBeVisible({ timeout: RUN_TIMEOUT });
    await first.pressSequentially('one');
    await first.press('Enter');
    await expect(outputLocator(page, 0)).toContainText('First? one', {
      timeout: RUN_TIMEOUT
    });

    const second = cellLocator(page, 0).getByLabel('Second?');
    await expect(second).toBeVisible({ timeout: RUN_TIMEOUT });
    await second.pressSequentially('tw');
    // What is typed is in the doc before the reload.
    await expect
      .poll(() => sharedInputValues(page), { timeout: 10000 })
      .toMatchObject({ 'Second?': 'tw' });

    await reloadWithNotebook(page, path);

    const restored = cellLocator(page, 0).getByLabel('Second?');
    await expect(restored).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(restored).toHaveValue('tw');
    await expect(inputBoxLocator(page, 0)).toHaveCount(1);
    await restored.click();
    await restored.press('End');
    await restored.pressSequentially('o');
    await restored.press('Enter');
    await expect(outputLocator(page, 0)).toContainText('Second? two', {
      timeout: RUN_TIMEOUT
    });
    await expect(outputLocator(page, 0)).toContainText('Got one and two', {
      timeout: RUN_TIMEOUT
    });
    await expect(inputBoxLocator(page, 0)).toHaveCount(0);
  });

  test('B sees that a password is awaited, but none of its characters', async ({
    page,
    collab
  }) => {
    const { other: userB } = await collab.openForTwo('password.ipynb', [
      ASK_PASSWORD
    ]);

    await runCell(page, 0);
    const boxA = cellLocator(page, 0).getByLabel('Password:');
    const boxB = cellLocator(userB, 0).getByLabel('Password:');
    await expect(boxA).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(boxB).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(boxA).toHaveAttribute('type', 'password');
    await expect(boxB).toHaveAttribute('type', 'password');
    await expect(inputBoxLocator(userB, 0)).toContainText(
      'A password is awaited'
    );

    await boxA.pressSequentially('s3cret');
    await expect(boxA).toHaveValue('s3cret');
    // Nothing was written into A's copy of the doc, so nothing can reach B.
    expect(await sharedInputValues(page)).toEqual({ 'Password:': '' });
    expect(await sharedInputValues(userB)).toEqual({ 'Password:': '' });
    await expect(boxB).toHaveValue('');
    await expect(inputBoxLocator(userB, 0)).not.toContainText('s3cret');

    // Anyone can answer: B does, with B's own value.
    await boxB.click();
    await boxB.pressSequentially('hunter2');
    await boxB.press('Enter');
    for (const user of [page, userB]) {
      await expect(outputLocator(user, 0)).toContainText('Password: ········', {
        timeout: RUN_TIMEOUT
      });
      await expect(outputLocator(user, 0)).toContainText('got 7 characters', {
        timeout: RUN_TIMEOUT
      });
      await expect(outputLocator(user, 0)).not.toContainText('hunter2');
      await expect(outputLocator(user, 0)).not.toContainText('s3cret');
      await expect(inputBoxLocator(user, 0)).toHaveCount(0);
    }
  });

  test('A prompt with HTML and a script is shown as text, and runs nothing', async ({
    page,
    collab
  }) => {
    await collab.open('html-prompt.ipynb', [ASK_HTML]);
    await runCell(page, 0);

    const widget = inputBoxLocator(page, 0);
    await expect(widget).toBeVisible({ timeout: RUN_TIMEOUT });
    await expect(widget.locator('label')).toHaveText(HTML_PROMPT);
    await expect(widget.locator('b, img')).toHaveCount(0);
    await expect(cellLocator(page, 0).locator('b, img')).toHaveCount(0);
    const box = widget.locator('input');
    await expect(box).toHaveAccessibleName(HTML_PROMPT);

    await box.pressSequentially('fine');
    await box.press('Enter');
    await expect(outputLocator(page, 0)).toContainText('answer fine', {
      timeout: RUN_TIMEOUT
    });
    await expect(outputLocator(page, 0)).toContainText(`${HTML_PROMPT} fine`);
    await expect(cellLocator(page, 0).locator('b, img')).toHaveCount(0);
    expect(
      await page.evaluate(
        () => (window as unknown as { __pwned?: unknown }).__pwned
      )
    ).toBeUndefined();
  });
});
