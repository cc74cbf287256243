/**
 * Through a real JupyterHub with collaboration accounts (the `hub` project, start_hub.py):
 * alice and bob, each in a browser context of their own, log in to the Hub and open one
 * notebook on the server of the account `collab`. What each does is shown under their
 * own display name from the Hub, never the account's.
 *
 * Plain Playwright pages: Galata's fixtures reach the server at absolute `/api/...` URLs,
 * which under `/user/collab/` are the Hub's.
 */
import * as fs from 'fs';
import {
  type APIRequestContext,
  type Browser,
  expect,
  type Page,
  test
} from '@playwright/test';

import {
  answerInput,
  badgeLocator,
  expectBadgeStatus,
  expectCellsShown,
  inputBoxLocator,
  notebookContent,
  outputLocator,
  runByPattern,
  runCell,
  RUN_TIMEOUT,
  waitForIdleStatusBar
} from './helpers';

interface IHubState {
  password: string;
  alice_token: string;
  display_names: Record<string, string>;
}

const ACCOUNT_PATH = '/user/collab';

/**
 * What start_hub.py wrote once the account's server was ready.
 */
async function hubState(): Promise<IHubState> {
  const file = process.env.UI_TESTS_HUB_STATE_FILE!;
  await expect
    .poll(() => fs.existsSync(file), {
      timeout: 120000,
      message: "the collab account's server is ready"
    })
    .toBe(true);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as IHubState;
}

/**
 * A person's browser: logged in to the Hub through its form, with access to the
 * account's server authorized on the Hub's page, as a first visit goes.
 */
async function logIn(
  browser: Browser,
  username: string,
  state: IHubState
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/hub/login');
  await page.locator('#username_input').fill(username);
  await page.locator('#password_input').fill(state.password);
  await page.locator('#login_submit').click();
  await page.waitForURL(/\/hub\/(home|spawn|user)/);
  await page.goto(`${ACCOUNT_PATH}/lab`);
  const authorize = page.getByRole('button', { name: 'Authorize' });
  await expect(authorize.or(page.locator('#main'))).toBeVisible({
    timeout: 60000
  });
  if (await authorize.isVisible()) {
    await authorize.click();
  }
  await page.waitForURL(new RegExp(`${ACCOUNT_PATH}/lab`));
  return page;
}

/**
 * Create a notebook on the account's server over REST, with alice's token.
 */
async function createNotebook(
  request: APIRequestContext,
  state: IHubState,
  name: string,
  sources: string[]
): Promise<void> {
  const response = await request.put(`${ACCOUNT_PATH}/api/contents/${name}`, {
    headers: { Authorization: `token ${state.alice_token}` },
    data: {
      type: 'notebook',
      format: 'json',
      content: JSON.parse(notebookContent(sources))
    }
  });
  expect(response.ok(), `creating ${name}`).toBe(true);
}

/**
 * Open the notebook in JupyterLab, and wait until its kernel is idle.
 */
async function openInLab(page: Page, name: string): Promise<void> {
  await page.goto(`${ACCOUNT_PATH}/lab/tree/${name}`);
  await expectCellsShown(page, 60000);
  await waitForIdleStatusBar(page, 60000);
}

/**
 * The usernames in the awareness of the notebook shown: who is in the room.
 */
async function usersInRoom(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const app = (
      window as unknown as {
        jupyterapp: {
          shell: {
            currentWidget: {
              context: {
                model: {
                  sharedModel: {
                    awareness: {
                      getStates: () => Map<
                        number,
                        { user?: { username?: string } }
                      >;
                    };
                  };
                };
              };
            };
          };
        };
      }
    ).jupyterapp;
    const states = app.shell.currentWidget.context.model.sharedModel.awareness
      .getStates()
      .values();
    const usernames = [...states].map(state => state.user?.username ?? '');
    return [...new Set(usernames.filter(Boolean))].sort();
  });
}

test.describe('Collaboration accounts on JupyterHub', () => {
  test("bob's run shows his Hub name in alice's view, alice answers bob's input, and the room holds them, not the account", async ({
    browser,
    request
  }) => {
    test.setTimeout(240000);
    const state = await hubState();
    const name = `hub-${Date.now()}.ipynb`;
    await createNotebook(request, state, name, [
      "print('from bob')",
      "answer = input('Name?')\nprint('hello', answer)"
    ]);
    const alice = await logIn(browser, 'alice', state);
    const bob = await logIn(browser, 'bob', state);
    await openInLab(alice, name);
    await openInLab(bob, name);

    await runCell(bob, 0);
    await expectBadgeStatus(alice, 0, 'ok');
    await expect(outputLocator(alice, 0)).toHaveText(/from bob/);
    await expect(badgeLocator(alice, 0)).toHaveText(
      runByPattern(state.display_names.bob)
    );

    await runCell(bob, 1);
    await answerInput(alice, 1, 'Name?', 'Ada');
    await expect(outputLocator(bob, 1)).toContainText('hello Ada', {
      timeout: RUN_TIMEOUT
    });
    await expect(inputBoxLocator(bob, 1)).toHaveCount(0);
    await expect(badgeLocator(bob, 1)).toHaveText(
      runByPattern(state.display_names.bob)
    );

    for (const view of [alice, bob]) {
      await expect
        .poll(() => usersInRoom(view), { timeout: RUN_TIMEOUT })
        .toEqual(['alice', 'bob']);
    }

    await alice.context().close();
    await bob.context().close();
  });
});
