import {
  expect,
  galata,
  type IJupyterLabPageFixture
} from '@jupyterlab/galata';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import type { NotebookPanel } from '@jupyterlab/notebook';
import * as fs from 'fs';

/**
 * Any page the locators below work in: Galata's, or a plain Playwright page.
 */
export type PageWithLocators = Pick<Page, 'locator'>;

/**
 * Any page that a user types into.
 */
export type PageWithKeyboard = Pick<Page, 'locator' | 'keyboard'>;

/**
 * How long a short cell may take to run on the server and reach every browser.
 */
export const RUN_TIMEOUT = 30000;

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

/**
 * How a notebook is put on the server.
 */
export interface INotebookOptions {
  /**
   * Save it as a notebook, which the server signs as it does what JupyterLab saves, so
   * that every view trusts its outputs (widgets render only in trusted outputs). By
   * default it is uploaded as a file, unsigned: then only the view that runs a cell
   * trusts what that cell outputs.
   */
  trusted?: boolean;
}

/**
 * Upload a notebook into the test's folder; returns its path.
 */
export async function uploadNotebook(
  request: APIRequestContext,
  tmpPath: string,
  name: string,
  sources: string[],
  options: INotebookOptions = {}
): Promise<string> {
  const path = `${tmpPath}/${name}`;
  if (options.trusted) {
    const response = await request.put(
      `/api/contents/${path.split('/').map(encodeURIComponent).join('/')}`,
      {
        data: {
          type: 'notebook',
          format: 'json',
          content: JSON.parse(notebookContent(sources))
        }
      }
    );
    expect(response.ok(), `saving ${path}`).toBe(true);
    return path;
  }
  const contents = galata.newContentsHelper(request);
  await contents.uploadContent(notebookContent(sources), 'text', path);
  return path;
}

/**
 * Whether a page shows Notebook 7 rather than JupyterLab: JupyterLab's URLs are all
 * under `/lab`.
 */
export function isNotebook7(page: IJupyterLabPageFixture): boolean {
  return !new URL(page.url()).pathname.includes('/lab');
}

/**
 * Wait until the kernel of the notebook shown can take executions.
 */
async function waitForIdleKernel(page: IJupyterLabPageFixture): Promise<void> {
  await page.waitForFunction(() => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel | null;
    const kernel = panel?.sessionContext?.session?.kernel;
    return kernel?.status === 'idle' && kernel.connectionStatus === 'connected';
  });
}

/**
 * Open a notebook and wait until its kernel can take executions: in JupyterLab from the
 * file browser, in Notebook 7 at `/notebooks/<path>`.
 */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  if (isNotebook7(page)) {
    await page.goto(`notebooks/${path}`);
    await expectCellsShown(page);
    await waitForIdleKernel(page);
    return;
  }
  const name = path.split('/').pop()!;
  // A reloaded page restores the notebooks that were open.
  if (
    !(await page.notebook.isOpen(name)) &&
    !(await page.notebook.openByPath(path))
  ) {
    throw new Error(`Could not open ${path}`);
  }
  await page.notebook.activate(name);
  await waitForIdleStatusBar(page);
}

/**
 * Wait until JupyterLab's status bar says that the kernel of the notebook shown is idle.
 */
export async function waitForIdleStatusBar(
  page: Pick<Page, 'waitForFunction'>,
  timeout = 30000
): Promise<void> {
  await page.waitForFunction(
    () => {
      const text =
        document.querySelector('#jp-main-statusbar')?.textContent ?? '';
      return (
        text.includes('Idle') &&
        !['Connecting', 'Initializing', 'Starting'].some(s => text.includes(s))
      );
    },
    undefined,
    { timeout }
  );
}

/**
 * Open a notebook without starting a kernel for it, as "No Kernel" does.
 */
export async function openWithoutKernel(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  await page.evaluate(async notebook => {
    await window.galata.app.commands.execute('docmanager:open', {
      path: notebook,
      factory: 'Notebook',
      kernelPreference: { shouldStart: false }
    });
  }, path);
  await expectCellsShown(page);
}

/**
 * Wait until the notebook shown has its cells on the page.
 */
export async function expectCellsShown(
  page: PageWithLocators,
  timeout = 30000
): Promise<void> {
  await expect(cellLocator(page, 0)).toBeVisible({ timeout });
}

/**
 * When the server started, or null while it does not answer.
 */
async function serverStarted(
  request: APIRequestContext
): Promise<string | null> {
  try {
    const response = await request.get('/api/status');
    return response.ok()
      ? ((await response.json()) as { started: string }).started
      : null;
  } catch {
    return null;
  }
}

/**
 * Restart the server of the `restart` project (start_restartable_lab.py), and wait
 * until the new one answers.
 */
export async function restartServer(request: APIRequestContext): Promise<void> {
  const pidFile = process.env.UI_TESTS_RESTART_PID_FILE;
  if (!pidFile || !fs.existsSync(pidFile)) {
    throw new Error('No restartable server runs: use the `restart` project.');
  }
  const before = await serverStarted(request);
  process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGUSR1');
  await expect
    .poll(
      async () => {
        const started = await serverStarted(request);
        return started !== null && started !== before;
      },
      { timeout: 90000, message: 'the server starts again' }
    )
    .toBe(true);
}

/**
 * Restart the server of the `restart` project while the page is away, and come back to
 * JupyterLab. The page leaves first: Galata follows its kernel requests, and fails the test
 * on one that the stopping server resets.
 */
export async function restartServerWhileAway(
  page: IJupyterLabPageFixture,
  request: APIRequestContext,
  baseURL: string
): Promise<void> {
  await page.evaluate(() => window.location.assign('about:blank'));
  await page.waitForURL('about:blank');
  await restartServer(request);
  await page.mainFrame().goto(`${baseURL}/lab`);
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
}

/**
 * Reload the page and show the notebook that the restored workspace reopens, without
 * waiting for its kernel: a kernel blocked in `input()` answers no `kernel_info_request`,
 * so a fresh page cannot learn its state until the input is answered.
 */
export async function reloadWithNotebook(
  page: IJupyterLabPageFixture,
  path: string
): Promise<void> {
  if (isNotebook7(page)) {
    // The page is the notebook's own.
    await page.reload();
    await expectCellsShown(page);
    return;
  }
  const name = path.split('/').pop()!;
  // The restored workspace shows the notebook, not the launcher Galata waits for.
  await page.reload({ waitForIsReady: false });
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  await expect
    .poll(() => page.notebook.isOpen(name), {
      timeout: 30000,
      message: `the restored workspace reopens ${name}`
    })
    .toBe(true);
  await page.activity.activateTab(name);
}

/**
 * Run one cell with Ctrl+Enter, as a user would.
 */
export async function runCell(
  page: PageWithKeyboard,
  index: number
): Promise<void> {
  await selectCells(page, index);
  await page.keyboard.press('Control+Enter');
}

/**
 * Select cells of the notebook shown by clicking their left edge, as Galata does, in
 * JupyterLab and in Notebook 7 (Galata finds notebooks by JupyterLab's tabs).
 */
export async function selectCells(
  page: PageWithLocators,
  start: number,
  end?: number
): Promise<void> {
  const position = { x: 15, y: 5 };
  await cellLocator(page, start).click({ position });
  if (end !== undefined) {
    await cellLocator(page, end).click({ position, modifiers: ['Shift'] });
  }
}

/**
 * The cell widgets of the notebook in the visible panel.
 */
export function cellLocator(page: PageWithLocators, index: number): Locator {
  return page
    .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')
    .nth(index);
}

export function outputLocator(page: PageWithLocators, index: number): Locator {
  return cellLocator(page, index).locator('.jp-OutputArea');
}

export function promptLocator(page: PageWithLocators, index: number): Locator {
  return cellLocator(page, index).locator('.jp-InputArea-prompt');
}

/**
 * A child map of `collab_exec` (`requests`, `inputs`) as this page's copy of the current
 * notebook's doc holds it, as JSON: shared Texts become strings.
 */
async function collabExecEntries(
  page: IJupyterLabPageFixture,
  name: string
): Promise<Record<string, Record<string, unknown>>> {
  return page.evaluate(child => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    const shared = panel.content.model?.sharedModel as unknown as {
      ydoc: {
        getMap: (name: string) => { get: (key: string) => unknown };
      };
    };
    const entries = shared.ydoc.getMap('collab_exec').get(child) as
      { toJSON: () => Record<string, Record<string, unknown>> } | undefined;
    return entries?.toJSON() ?? {};
  }, name);
}

/**
 * How many requests the server recorded in the current notebook's collab_exec map.
 */
export async function serverRequestCount(
  page: IJupyterLabPageFixture
): Promise<number> {
  return Object.keys(await collabExecEntries(page, 'requests')).length;
}

/**
 * The status badge of a cell of the notebook in the visible panel.
 */
export function badgeLocator(page: PageWithLocators, index: number): Locator {
  return cellLocator(page, index).locator('.jp-CollabExec-badge');
}

/**
 * Wait until the badge of a cell shows a status.
 */
export async function expectBadgeStatus(
  page: PageWithLocators,
  index: number,
  status: string,
  timeout = RUN_TIMEOUT
): Promise<void> {
  await expect(badgeLocator(page, index)).toHaveAttribute(
    'data-status',
    status,
    { timeout }
  );
}

/**
 * What a badge says of a cell that a person ran: `Run by <name>`.
 */
export function runByPattern(displayName: string, flags?: string): RegExp {
  const escaped = displayName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`Run by ${escaped}`, flags);
}

/**
 * The status item in the toolbar of the notebook in the visible panel.
 */
export function queueToolbarLocator(page: IJupyterLabPageFixture): Locator {
  return page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar .jp-CollabExec-toolbar'
  );
}

/**
 * The kernel state in the toolbar of the notebook in the visible panel.
 */
export function kernelStateLocator(page: IJupyterLabPageFixture): Locator {
  return queueToolbarLocator(page).locator('.jp-CollabExec-kernelState');
}

/**
 * The display name of the user of a page; the server's user when the page does not mock
 * it (`test.use({ mockUser: false })`).
 */
export async function userDisplayName(
  page: IJupyterLabPageFixture
): Promise<string> {
  return (await identityOf(page)).display_name;
}

/**
 * The server's username of the user of a page: unique, unlike display names, which the
 * server picks at random from a short list for anonymous users.
 */
export async function userName(page: IJupyterLabPageFixture): Promise<string> {
  return (await identityOf(page)).username;
}

async function identityOf(
  page: IJupyterLabPageFixture
): Promise<{ username: string; display_name: string }> {
  return page.evaluate(async () => {
    const user = window.galata.app.serviceManager.user;
    await user.ready;
    return {
      username: user.identity?.username ?? '',
      display_name: user.identity?.display_name ?? ''
    };
  });
}

/**
 * A cell of a notebook as saved on disk, read through the contents API.
 */
export async function savedCell(
  request: APIRequestContext,
  path: string,
  index: number
): Promise<ISavedCell | null> {
  return (await savedNotebook(request, path))?.cells?.[index] ?? null;
}

/**
 * What tests read of a notebook saved on disk.
 */
export interface ISavedNotebook {
  cells?: ISavedCell[];
  metadata?: { widgets?: unknown };
}

export interface ISavedCell {
  cell_type?: string;
  metadata?: object;
  execution_count?: number | null;
  outputs?: Array<{ text?: string | string[] }>;
}

/**
 * A notebook as saved on disk, read through the contents API; null while the server
 * writes it.
 */
export async function savedNotebook(
  request: APIRequestContext,
  path: string
): Promise<ISavedNotebook | null> {
  const response = await request.get(
    `/api/contents/${path.split('/').map(encodeURIComponent).join('/')}?type=notebook&content=1`
  );
  if (!response.ok()) {
    return null;
  }
  const model = (await response.json()) as { content?: ISavedNotebook };
  return model.content ?? null;
}

/**
 * The session of a notebook on the server.
 */
export async function sessionOf(
  request: APIRequestContext,
  path: string
): Promise<{ id: string; kernel: { id: string } }> {
  const response = await request.get('/api/sessions');
  const sessions = (await response.json()) as Array<{
    id: string;
    path: string;
    kernel: { id: string };
  }>;
  const session = sessions.find(entry => entry.path === path);
  expect(session, `a session for ${path}`).toBeTruthy();
  return session!;
}

/**
 * Change a setting of this extension in a page, as the settings editor would.
 */
export async function setCollabExecSetting(
  page: IJupyterLabPageFixture,
  key: string,
  value: boolean
): Promise<void> {
  await page.evaluate(
    async ({ key, value }) => {
      const registry = await window.galata.getPlugin(
        '@jupyterlab/apputils-extension:settings'
      );
      if (!registry) {
        throw new Error('No setting registry');
      }
      await registry.set('jupyterlab-collab-exec:plugin', key, value);
    },
    { key, value }
  );
}

/**
 * Answer the pending `input()` of a cell, asked with `prompt`, from a page.
 */
export async function answerInput(
  page: PageWithLocators,
  index: number,
  prompt: string,
  value: string
): Promise<void> {
  const box = cellLocator(page, index).getByLabel(prompt);
  await expect(box).toBeVisible({ timeout: RUN_TIMEOUT });
  await box.fill(value);
  await box.press('Enter');
}

/**
 * The collaborative input widgets of a cell of the notebook in the visible panel.
 */
export function inputBoxLocator(
  page: PageWithLocators,
  index: number
): Locator {
  return cellLocator(page, index).locator('.jp-CollabExec-input');
}

/**
 * The shared text of the pending inputs of the current notebook, as this page's copy of
 * the doc holds it: `{ prompt: value }`.
 */
export async function sharedInputValues(
  page: IJupyterLabPageFixture
): Promise<Record<string, string>> {
  const inputs = await collabExecEntries(page, 'inputs');
  return Object.fromEntries(
    Object.values(inputs).map(entry => [
      String(entry.prompt),
      String(entry.value ?? '')
    ])
  );
}
