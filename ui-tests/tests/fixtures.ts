/**
 * The fixtures of the specs: notebooks created with given code cells over REST in the
 * test's folder, opened for the `page` fixture's user and for other users, each in a
 * browser context of their own; and the project's kernel host, as an option.
 */
import {
  expect,
  galata,
  type IJupyterLabPageFixture,
  test as base
} from '@jupyterlab/galata';

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
   * The page and its browser context are closed after the test.
   */
  otherUser(path?: string): Promise<IJupyterLabPageFixture>;
}

/**
 * Where the server under test runs its kernels: on its own machine, or behind a Kernel
 * Gateway (the `gateway` project).
 */
export type KernelHost = 'local' | 'gateway';

export const test = base.extend<{ collab: ICollab; kernelHost: KernelHost }>({
  kernelHost: ['local', { option: true }],
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
      terminals
    },
    use
  ) => {
    const others: IJupyterLabPageFixture[] = [];
    const otherUser = async (
      path?: string
    ): Promise<IJupyterLabPageFixture> => {
      // Galata shows each page only the sessions it tracks. The test's maps are shared:
      // every page sees the others' sessions and kernels, and the test's teardown shuts
      // down what any of them started.
      const context = await browser.newContext();
      const other = await galata.initTestPage(
        appPath,
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
        waitForApplication,
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
