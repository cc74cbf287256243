/**
 * The fixtures of the specs: notebooks created with given code cells over REST in the
 * test's folder, opened for the `page` fixture's user and for other users, each in a
 * browser context of their own; and the project's kernel host, as an option.
 */
import {
  expect,
  galata,
  type IJupyterLabPage,
  type IJupyterLabPageFixture,
  test as base
} from '@jupyterlab/galata';
import type { Page } from '@playwright/test';

import { type INotebookOptions, openNotebook, uploadNotebook } from './helpers';

/**
 * What the `collab` fixture gives a test.
 */
export interface ICollab {
  /**
   * Create a notebook whose code cells have these sources; returns its path.
   */
  create(
    name: string,
    sources: string[],
    options?: INotebookOptions
  ): Promise<string>;
  /**
   * Create a notebook and open it in `page`, ready to run; returns its path.
   */
  open(
    name: string,
    sources: string[],
    options?: INotebookOptions
  ): Promise<string>;
  /**
   * Create a notebook and open it in `page` and for a second user.
   */
  openForTwo(
    name: string,
    sources: string[],
    options?: INotebookOptions
  ): Promise<{ path: string; other: IJupyterLabPageFixture }>;
  /**
   * Another user, shown as the test's `mockUser` option says (with `false`, each browser
   * context is its own anonymous user on the server), with the notebook at `path` open
   * when one is given. Like a collaborator, they see the sessions of the test's other
   * pages, so they join the notebook's kernel rather than starting one of their own.
   * The page and its browser context are closed after the test. `ui` gives them another
   * user interface than the test's (JupyterLab and Notebook 7 on one notebook).
   */
  otherUser(path?: string, ui?: UserInterface): Promise<IJupyterLabPageFixture>;
}

/**
 * Where the server under test runs its kernels: on its own machine, or behind a Kernel
 * Gateway (the `gateway` project).
 */
export type KernelHost = 'local' | 'gateway';

/**
 * The user interface of the pages: JupyterLab, or Notebook 7 (the `notebook` project).
 */
export type UserInterface = 'lab' | 'notebook';

/**
 * What Galata waits for once a page loads: JupyterLab's launcher, or Notebook 7's main
 * panel (Notebook 7 has no launcher).
 */
type WaitForApplication = (
  page: Page,
  helpers: IJupyterLabPage
) => Promise<void>;

const notebook7Ready: WaitForApplication = async page => {
  await page.locator('#main-panel').waitFor();
};

const jupyterLabReady: WaitForApplication = async (page, helpers) => {
  await page.locator('#jupyterlab-splash').waitFor({ state: 'detached' });
  await helpers.waitForCondition(() =>
    helpers.activity.isTabActive('Launcher')
  );
};

const APP_PATHS: Record<UserInterface, string> = { lab: '/lab', notebook: '' };

export const test = base.extend<{
  collab: ICollab;
  kernelHost: KernelHost;
  ui: UserInterface;
}>({
  kernelHost: ['local', { option: true }],
  ui: ['lab', { option: true }],
  waitForApplication: async ({ waitForApplication, ui }, use) => {
    await use(ui === 'notebook' ? notebook7Ready : waitForApplication);
  },
  collab: async (
    {
      page,
      request,
      appPath,
      baseURL,
      browser,
      tmpPath,
      waitForApplication,
      mockConfig,
      mockSettings,
      mockState,
      mockUser,
      kernels,
      sessions,
      terminals,
      ui
    },
    use
  ) => {
    const others: IJupyterLabPageFixture[] = [];
    const otherUser = async (
      path?: string,
      otherUi: UserInterface = ui
    ): Promise<IJupyterLabPageFixture> => {
      // Galata shows each page only the sessions it tracks. The test's maps are shared:
      // every page sees the others' sessions and kernels, and the test's teardown shuts
      // down what any of them started.
      const context = await browser.newContext();
      const other = await galata.initTestPage(
        otherUi === ui ? appPath : APP_PATHS[otherUi],
        true,
        baseURL!,
        mockConfig,
        mockSettings,
        mockState,
        mockUser,
        await context.newPage(),
        sessions,
        terminals,
        tmpPath,
        otherUi === ui
          ? waitForApplication
          : otherUi === 'lab'
            ? jupyterLabReady
            : notebook7Ready,
        kernels,
        true
      );
      others.push(other);
      if (path) {
        await openNotebook(other, path);
      }
      return other;
    };
    const create = (
      name: string,
      sources: string[],
      options?: INotebookOptions
    ) => uploadNotebook(request, tmpPath, name, sources, options);
    const open = async (
      name: string,
      sources: string[],
      options?: INotebookOptions
    ) => {
      const path = await create(name, sources, options);
      await openNotebook(page, path);
      return path;
    };
    await use({
      create,
      open,
      otherUser,
      openForTwo: async (name, sources, options) => {
        const path = await open(name, sources, options);
        return { path, other: await otherUser(path) };
      }
    });
    for (const other of others) {
      await other.context().close();
    }
  }
});

export { expect };
