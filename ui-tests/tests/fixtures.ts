/**
 * The fixtures of the specs: notebooks created with given code cells over REST in the
 * test's folder, opened for the `page` fixture's user and for other users, each in a
 * browser context of their own.
 */
import {
  expect,
  galata,
  type IJupyterLabPageFixture,
  test as base
} from '@jupyterlab/galata';

import { openNotebook, uploadNotebook } from './helpers';

/**
 * What the `collab` fixture gives a test.
 */
export interface ICollab {
  /**
   * Create a notebook whose code cells have these sources; returns its path.
   */
  create(name: string, sources: string[]): Promise<string>;
  /**
   * Create a notebook and open it in `page`, ready to run; returns its path.
   */
  open(name: string, sources: string[]): Promise<string>;
  /**
   * Create a notebook and open it in `page` and for a second user.
   */
  openForTwo(
    name: string,
    sources: string[]
  ): Promise<{ path: string; other: IJupyterLabPageFixture }>;
  /**
   * Another user, shown as the test's `mockUser` option says (with `false`, each browser
   * context is its own anonymous user on the server), with the notebook at `path` open
   * when one is given. The page is closed after the test.
   */
  otherUser(path?: string): Promise<IJupyterLabPageFixture>;
}

export const test = base.extend<{ collab: ICollab }>({
  collab: async (
    { page, request, baseURL, browser, tmpPath, waitForApplication, mockUser },
    use
  ) => {
    const others: IJupyterLabPageFixture[] = [];
    const otherUser = async (
      path?: string
    ): Promise<IJupyterLabPageFixture> => {
      const { page: other } = await galata.newPage({
        baseURL: baseURL!,
        browser,
        tmpPath,
        waitForApplication,
        mockUser
      });
      others.push(other);
      if (path) {
        await openNotebook(other, path);
      }
      return other;
    };
    const create = (name: string, sources: string[]) =>
      uploadNotebook(request, tmpPath, name, sources);
    const open = async (name: string, sources: string[]) => {
      const path = await create(name, sources);
      await openNotebook(page, path);
      return path;
    };
    await use({
      create,
      open,
      otherUser,
      openForTwo: async (name, sources) => {
        const path = await open(name, sources);
        return { path, other: await otherUser(path) };
      }
    });
    for (const other of others) {
      if (!other.isClosed()) {
        await other.close();
      }
    }
  }
});

export { expect };
