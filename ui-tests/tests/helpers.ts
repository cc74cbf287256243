import {
  galata,
  type IJupyterLabPageFixture,
  type TestFixtures,
  type PlaywrightTestArgs,
  type PlaywrightWorkerArgs
} from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import type { NotebookPanel } from '@jupyterlab/notebook';

/**
 * A notebook JSON whose code cells have the given sources.
 */
export function notebookContent(sources: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: {
        name: 'python3',
        display_name: 'Python 3 (ipykernel)',
        language: 'python'
      },
      language_info: { name: 'python' }
    },
    cells: sources.map((source, index) => ({
      id: `cell-${index}`,
      cell_type: 'code',
      metadata: {},
      execution_count: null,
      outputs: [],
      source
    }))
  });
}

type Fixtures = TestFixtures & PlaywrightTestArgs & PlaywrightWorkerArgs;

/**
 * Upload a notebook into the test's folder; returns its path.
 */
export async function uploadNotebook(
  request: Fixtures['request'],
  tmpPath: string,
  name: string,
  sources: string[]
): Promise<string> {
  const path = `${tmpPath}/${name}`;
  const contents = galata.newContentsHelper(request);
  await contents.uploadContent(notebookContent(sources), 'text', path);
  return path;
}

/**
 * A second user in their own browser context.
 */
export async function openSecondUser(
  fixtures: Pick<
    Fixtures,
    'baseURL' | 'browser' | 'tmpPath' | 'waitForApplication'
  >
): Promise<IJupyterLabPageFixture> {
  const { page } = await galata.newPage({
    baseURL: fixtures.baseURL!,
    browser: fixtures.browser,
    tmpPath: fixtures.tmpPath,
    waitForApplication: fixtures.waitForApplication
  });
  return page;
}

/**
 * Open a notebook and wait until its kernel can take executions.
 */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  const name = path.split('/').pop()!;
  // A reloaded page restores the notebooks that were open.
  if (
    !(await page.notebook.isOpen(name)) &&
    !(await page.notebook.openByPath(path))
  ) {
    throw new Error(`Could not open ${path}`);
  }
  await page.notebook.activate(name);
  await page.waitForFunction(() => {
    const text =
      document.querySelector('#jp-main-statusbar')?.textContent ?? '';
    return (
      text.includes('Idle') &&
      !['Connecting', 'Initializing', 'Starting'].some(s => text.includes(s))
    );
  });
}

/**
 * Run one cell with Ctrl+Enter, as a user would.
 */
export async function runCell(
  page: IJupyterLabPageFixture,
  index: number
): Promise<void> {
  await page.notebook.selectCells(index);
  await page.keyboard.press('Control+Enter');
}

/**
 * The cell widgets of the notebook in the visible panel.
 */
export function cellLocator(
  page: IJupyterLabPageFixture,
  index: number
): Locator {
  return page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')
    .nth(index);
}

export function outputLocator(
  page: IJupyterLabPageFixture,
  index: number
): Locator {
  return cellLocator(page, index).locator('.jp-OutputArea');
}

export function promptLocator(
  page: IJupyterLabPageFixture,
  index: number
): Locator {
  return cellLocator(page, index).locator('.jp-InputArea-prompt');
}

/**
 * How many requests the server recorded in the current notebook's collab_exec map.
 */
export async function serverRequestCount(
  page: IJupyterLabPageFixture
): Promise<number> {
  return page.evaluate(() => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    const shared = panel.content.model?.sharedModel as unknown as {
      ydoc: {
        getMap: (name: string) => { get: (key: string) => unknown };
      };
    };
    const requests = shared.ydoc.getMap('collab_exec').get('requests') as
      { size: number } | undefined;
    return requests?.size ?? 0;
  });
}
