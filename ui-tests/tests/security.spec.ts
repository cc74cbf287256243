/**
 * Issue 16: any room member can write the shared document, so nothing that a member
 * forges there may run as trusted in another user's view.
 *
 * An attacker with room access only (attacker.py, a pycrdt client of the room) forges
 * outputs, request entries, `metadata.trusted` and widget state; the victim's view must
 * run none of it, live and after a reload, while what the server really ran (JavaScript,
 * widgets, also after the kernel is gone) still renders for everyone. Notebooks are
 * uploaded unsigned, as in the other specs.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { APIRequestContext, Locator } from '@playwright/test';
import { execFile } from 'child_process';
import * as path from 'path';

import { expect, test } from './fixtures';
import {
  cellLocator,
  expectBadgeStatus,
  openWithoutKernel,
  reloadWithNotebook,
  RUN_TIMEOUT,
  runCell,
  savedNotebook,
  type ISavedNotebook,
  sessionOf,
  userDisplayName,
  userName
} from './helpers';

/**
 * Code cell sources, each followed by a comment unique to this call, so that the notebook
 * opens unsigned. The server signs every notebook whose code cells show nothing unsafe
 * whenever it saves one, in a signature store that outlives the server: a notebook
 * uploaded with the content of one saved before would open trusted.
 */
function unsigned(sources: string[]): string[] {
  const nonce = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return sources.map((source, index) => `${source}\n# ${nonce} ${index}`);
}

/**
 * The folder of attacker.py.
 */
const UI_TESTS = path.resolve(__dirname, '..');

/**
 * An edit of the shared document, as attacker.py takes it.
 */
type AttackAction = { action: string } & Record<string, unknown>;

/**
 * What attacker.py prints once the server holds its edits.
 */
interface IAttackSummary {
  room_id: string;
  client_id: number;
  results: Array<{
    action: string;
    request_id?: string;
    cell_id?: string;
    model_ids?: string[];
  }>;
}

/**
 * Run attacker.py against a notebook of the server under test; it exits once the server
 * holds every edit.
 */
async function attack(
  baseURL: string | undefined,
  notebook: string,
  actions: AttackAction[]
): Promise<IAttackSummary> {
  const run = await new Promise<{
    code: number;
    stdout: string;
    stderr: string;
  }>(resolve => {
    execFile(
      'python',
      [
        'attacker.py',
        '--base-url',
        baseURL ?? 'http://localhost:8888',
        '--path',
        notebook,
        '--actions',
        JSON.stringify(actions)
      ],
      { cwd: UI_TESTS, timeout: 90000 },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      }
    );
  });
  expect(run.code, `attacker.py exits 0; it said: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as IAttackSummary;
}

/**
 * A path for the contents API, each segment encoded.
 */
function contentsUrl(filePath: string): string {
  return `/api/contents/${filePath.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The file that the JavaScript payload would write with the victim's credentials.
 */
function pwnedFile(folder: string): string {
  return `${folder}/pwned.txt`;
}

/**
 * Forged outputs: a stream that shows their arrival in any case, JavaScript that writes
 * `window.__pwned` and a file through the victim's session, and HTML whose image runs a
 * handler. `tag` tells each attack's outputs apart.
 */
function payloadOutputs(
  baseURL: string | undefined,
  folder: string,
  tag: string
): Array<Record<string, unknown>> {
  const url = new URL(
    contentsUrl(pwnedFile(folder)).slice(1),
    `${baseURL ?? 'http://localhost:8888'}/`
  ).pathname;
  const javascript = [
    'window.__pwned = 1;',
    "const xsrf = (document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/) || [])[1] || '';",
    `fetch(${JSON.stringify(url)}, {`,
    "  method: 'PUT',",
    "  credentials: 'same-origin',",
    "  headers: { 'X-XSRFToken': xsrf, 'Content-Type': 'application/json' },",
    "  body: JSON.stringify({ type: 'file', format: 'text', content: 'pwned' })",
    '});'
  ].join('\n');
  return [
    {
      output_type: 'stream',
      name: 'stdout',
      text: `forged outputs ${tag}\n`
    },
    {
      output_type: 'display_data',
      data: {
        'application/javascript': javascript,
        'text/plain': `forged javascript ${tag}`
      },
      metadata: {}
    },
    {
      output_type: 'display_data',
      data: {
        'text/html': `<b>forged html ${tag}</b><img src=x onerror="window.__pwnedHtml = 1">`,
        'text/plain': `forged html text ${tag}`
      },
      metadata: {}
    }
  ];
}

/**
 * What a page shows of the forged outputs in a cell, and whether any of their scripts ran.
 */
interface IPayloadState {
  pwned: string;
  pwnedHtml: string;
  javascriptAsText: boolean;
  imageHandlers: number;
}

async function payloadState(
  view: IJupyterLabPageFixture,
  cell: number,
  tag: string
): Promise<IPayloadState> {
  const flags = await view.evaluate(() => {
    const scope = window as unknown as Record<string, unknown>;
    return {
      pwned: typeof scope.__pwned,
      pwnedHtml: typeof scope.__pwnedHtml
    };
  });
  const javascriptAsText = await cellLocator(view, cell)
    .locator('.jp-OutputArea-output')
    .filter({ hasText: `forged javascript ${tag}` })
    .isVisible();
  const imageHandlers = await cellLocator(view, cell)
    .locator('img[onerror]')
    .count();
  return { ...flags, javascriptAsText, imageHandlers };
}

/**
 * Wait until a view shows the forged outputs of a cell, then check that they ran nothing:
 * the JavaScript shows as its text, the HTML is sanitized, and no file was written.
 */
async function expectPayloadInert(
  who: string,
  view: IJupyterLabPageFixture,
  request: APIRequestContext,
  folder: string,
  cell: number,
  tag: string
): Promise<void> {
  const cellNode = cellLocator(view, cell);
  await expect(cellNode.getByText(`forged outputs ${tag}`)).toBeVisible({
    timeout: RUN_TIMEOUT
  });
  await expect(
    cellNode.locator('b', { hasText: `forged html ${tag}` })
  ).toBeVisible({ timeout: RUN_TIMEOUT });
  // The JavaScript output shows as text once the view decided, or its script ran.
  await expect
    .poll(
      async () => {
        const state = await payloadState(view, cell, tag);
        return (
          state.javascriptAsText ||
          state.pwned !== 'undefined' ||
          state.pwnedHtml !== 'undefined'
        );
      },
      { timeout: RUN_TIMEOUT, message: 'the view renders the forged outputs' }
    )
    .toBe(true);
  expect(
    await payloadState(view, cell, tag),
    `${who}: no forged script ran`
  ).toEqual({
    pwned: 'undefined',
    pwnedHtml: 'undefined',
    javascriptAsText: true,
    imageHandlers: 0
  });
  const written = await request.get(contentsUrl(pwnedFile(folder)));
  expect(written.status(), `${who}: no file written with their session`).toBe(
    404
  );
}

/**
 * Where a payload was forged: the cell, its tag, and what the checks need.
 */
interface IForgery {
  request: APIRequestContext;
  folder: string;
  cell: number;
  tag: string;
}

/**
 * The forged outputs of a cell run nothing in any of the views, live; nor in the victim's
 * view once reloaded.
 */
async function expectInertLiveAndReloaded(
  live: ReadonlyArray<readonly [string, IJupyterLabPageFixture]>,
  victim: IJupyterLabPageFixture,
  notebook: string,
  forgery: IForgery
): Promise<void> {
  const { request, folder, cell, tag } = forgery;
  for (const [who, view] of live) {
    await expectPayloadInert(who, view, request, folder, cell, tag);
  }
  await reloadWithNotebook(victim, notebook);
  await expectPayloadInert(
    'the victim, reloaded',
    victim,
    request,
    folder,
    cell,
    tag
  );
}

/**
 * The attacker's action that writes the payload into a cell, instead of its outputs.
 */
function forgeOutputs(
  baseURL: string | undefined,
  forgery: IForgery
): AttackAction {
  return {
    action: 'set_outputs',
    cell: forgery.cell,
    outputs: payloadOutputs(baseURL, forgery.folder, forgery.tag),
    replace: true
  };
}

/**
 * A cell's metadata key, as a page's copy of the current notebook holds it.
 */
async function cellMetadata(
  view: IJupyterLabPageFixture,
  cell: number,
  key: string
): Promise<unknown> {
  return view.evaluate(
    ({ cell, key }) => {
      const panel = window.galata.app.shell.currentWidget as NotebookPanel;
      return panel.content.model?.cells.get(cell).getMetadata(key) ?? null;
    },
    { cell, key }
  );
}

/**
 * Whether a page's copy of the current notebook's doc holds a request entry.
 */
async function hasRequestEntry(
  view: IJupyterLabPageFixture,
  requestId: string
): Promise<boolean> {
  return view.evaluate(id => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    const shared = panel.content.model?.sharedModel as unknown as {
      ydoc: { getMap: (name: string) => { toJSON: () => unknown } };
    };
    const root = shared.ydoc.getMap('collab_exec').toJSON() as {
      requests?: Record<string, unknown>;
    };
    return id in (root.requests ?? {});
  }, requestId);
}

/**
 * The entries of `collab_widgets.models` in a page's copy of the current notebook's doc.
 */
async function widgetEntries(
  view: IJupyterLabPageFixture
): Promise<
  Record<
    string,
    { model_name: string; live: boolean; state: Record<string, unknown> }
  >
> {
  return view.evaluate(() => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    const shared = panel.content.model?.sharedModel as unknown as {
      ydoc: { getMap: (name: string) => { toJSON: () => unknown } };
    };
    const root = shared.ydoc.getMap('collab_widgets').toJSON() as {
      models?: Record<
        string,
        { model_name: string; live: boolean; state: Record<string, unknown> }
      >;
    };
    return root.models ?? {};
  });
}

/**
 * The notebook metadata `widgets` in a page's copy of the current notebook, as text.
 */
async function docWidgetState(view: IJupyterLabPageFixture): Promise<string> {
  return view.evaluate(() => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    return JSON.stringify(panel.content.model?.getMetadata('widgets') ?? {});
  });
}

/**
 * The saved widget state of a notebook's file, by model name; {} while none is saved.
 */
function savedModels(
  saved: ISavedNotebook | null
): Record<string, Record<string, unknown>> {
  const widgets = saved?.metadata?.widgets as
    | Record<
        string,
        {
          state?: Record<
            string,
            { model_name: string; state: Record<string, unknown> }
          >;
        }
      >
    | undefined;
  const models =
    widgets?.['application/vnd.jupyter.widget-state+json']?.state ?? {};
  return Object.fromEntries(
    Object.values(models).map(model => [model.model_name, model.state])
  );
}

/**
 * Whether any widget script of the attack ran in a page.
 */
async function widgetScriptsRan(view: IJupyterLabPageFixture): Promise<{
  pwnedWidget: string;
  pwnedEsm: string;
}> {
  return view.evaluate(() => {
    const scope = window as unknown as Record<string, unknown>;
    return {
      pwnedWidget: typeof scope.__pwnedWidget,
      pwnedEsm: typeof scope.__pwnedEsm
    };
  });
}

const NO_WIDGET_SCRIPT = { pwnedWidget: 'undefined', pwnedEsm: 'undefined' };

function readout(view: IJupyterLabPageFixture, cell: number): Locator {
  return cellLocator(view, cell).locator('.widget-slider .widget-readout');
}

/**
 * Wait until a view renders the genuine widgets of the kernel-gone notebook. The checks
 * are soft: a widget that fails to render fails the test, and the checks of what ran
 * still follow.
 */
async function expectGenuineWidgets(
  who: string,
  view: IJupyterLabPageFixture,
  { anywidget = true }: { anywidget?: boolean } = {}
): Promise<void> {
  await expect
    .soft(
      cellLocator(view, 0).locator('.widget-html b', {
        hasText: 'genuine html'
      }),
      `${who}: the HTML widget`
    )
    .toBeVisible({ timeout: RUN_TIMEOUT });
  if (anywidget) {
    await expect
      .soft(cellLocator(view, 1), `${who}: the anywidget`)
      .toContainText('genuine esm 3', { timeout: RUN_TIMEOUT });
  }
  await expect
    .soft(readout(view, 2), `${who}: the slider`)
    .toHaveText('7', { timeout: RUN_TIMEOUT });
  await expect(
    cellLocator(view, 0).locator('img'),
    `${who}: no forged image`
  ).toHaveCount(0);
}

const GENUINE_JAVASCRIPT = [
  'from IPython.display import Javascript, display',
  'display(Javascript("window.ok = (window.ok || 0) + 1"))'
].join('\n');

const SLIDER = 'from ipywidgets import IntSlider\nIntSlider(value=7)';

const HTML_WIDGET = "from ipywidgets import HTML\nHTML('<b>genuine html</b>')";

const ANYWIDGET = [
  'import anywidget, traitlets',
  'class Counter(anywidget.AnyWidget):',
  "    _esm = \"export default { render({ model, el }) { el.textContent = 'genuine esm ' + model.get('count'); } }\"",
  '    count = traitlets.Int(3).tag(sync=True)',
  'Counter()'
].join('\n');

const FORGED_WIDGET_HTML = '<img src=x onerror="window.__pwnedWidget = 1">';

const FORGED_ESM = 'export default { render() { window.__pwnedEsm = 1; } }';

const FORGED_WIDGETS = [
  { model_name: 'HTMLModel', key: 'value', value: FORGED_WIDGET_HTML },
  { model_name: 'AnyModel', key: '_esm', value: FORGED_ESM }
];

// Each browser context is its own user on the server.
test.use({ mockUser: false });

test.describe('Forged content in the shared document runs nowhere', () => {
  test('(1) forged outputs in a cell nobody ran', async ({
    page,
    baseURL,
    collab,
    request,
    tmpPath
  }) => {
    const { path: notebook, other: victim } = await collab.openForTwo(
      'never-run.ipynb',
      unsigned(["print('never run')"])
    );
    const forgery = { request, folder: tmpPath, cell: 0, tag: 'case-1' };
    await attack(baseURL, notebook, [forgeOutputs(baseURL, forgery)]);
    await expectInertLiveAndReloaded(
      [
        ['the victim', victim],
        ['the page user', page]
      ],
      victim,
      notebook,
      forgery
    );
  });

  test('a cell that JupyterLab just created, marked trusted in the doc, runs none of what is forged into it', async ({
    page,
    baseURL,
    collab,
    request,
    tmpPath
  }) => {
    const { path: notebook, other: victim } = await collab.openForTwo(
      'new-cell.ipynb',
      unsigned(["print('first')"])
    );
    // The page user adds a cell: JupyterLab creates it with `metadata.trusted` set, in
    // the shared document, for every view.
    await page.notebook.addCell('code', '1 + 1');
    await expect(cellLocator(victim, 1)).toBeVisible({ timeout: RUN_TIMEOUT });
    const forgery = { request, folder: tmpPath, cell: 1, tag: 'new-cell' };
    await attack(baseURL, notebook, [forgeOutputs(baseURL, forgery)]);
    await expectInertLiveAndReloaded(
      [
        ['the victim', victim],
        ['the page user, who made the cell', page]
      ],
      victim,
      notebook,
      forgery
    );
  });

  test('a cell nobody ran, with forged outputs and a forged metadata.trusted, after a reload', async ({
    baseURL,
    collab,
    request,
    tmpPath
  }) => {
    const { path: notebook, other: victim } = await collab.openForTwo(
      'forged-trust.ipynb',
      unsigned(["print('never run')"])
    );
    const forgery = { request, folder: tmpPath, cell: 0, tag: 'forged-trust' };
    await attack(baseURL, notebook, [
      forgeOutputs(baseURL, forgery),
      { action: 'set_cell_metadata', cell: 0, key: 'trusted', value: true }
    ]);
    await expectInertLiveAndReloaded([], victim, notebook, forgery);
  });

  test('(2, 3) forged outputs with a forged "ok" request entry, live and after a reload', async ({
    page,
    baseURL,
    collab,
    request,
    tmpPath
  }) => {
    const { path: notebook, other: victim } = await collab.openForTwo(
      'forged-request.ipynb',
      unsigned(["print('never run')"])
    );
    // The entry names the page's user, who never ran the cell.
    const forgery = { request, folder: tmpPath, cell: 0, tag: 'case-2' };
    const summary = await attack(baseURL, notebook, [
      forgeOutputs(baseURL, forgery),
      {
        action: 'add_request',
        cell: 0,
        status: 'ok',
        submitted_by: {
          username: await userName(page),
          display_name: await userDisplayName(page)
        }
      }
    ]);
    const requestId = summary.results[1].request_id!;
    // The server removes the forged entry.
    await expect
      .poll(() => hasRequestEntry(victim, requestId), {
        timeout: 10000,
        message: 'the server removes the forged request entry'
      })
      .toBe(false);
    // (2) live, and (3) after the victim reloads.
    await expectInertLiveAndReloaded(
      [
        ['the victim', victim],
        ['the page user', page]
      ],
      victim,
      notebook,
      forgery
    );
  });

  test('(4, 5) a cell the server ran, its outputs replaced live; after a reload; with a forged metadata.trusted', async ({
    page,
    baseURL,
    collab,
    request,
    tmpPath
  }) => {
    const { path: notebook, other: victim } = await collab.openForTwo(
      'ran.ipynb',
      unsigned([
        [
          "print('real')",
          'from IPython.display import HTML, display',
          "display(HTML('<b>harmless</b>'))"
        ].join('\n')
      ])
    );
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    for (const view of [victim, page]) {
      await expect(
        cellLocator(view, 0).locator('b', { hasText: 'harmless' })
      ).toBeVisible({ timeout: RUN_TIMEOUT });
    }

    // (4) The attacker replaces what the server wrote, while both watch; (5) the victim
    // reloads.
    const forgery = { request, folder: tmpPath, cell: 0, tag: 'case-4' };
    await attack(baseURL, notebook, [forgeOutputs(baseURL, forgery)]);
    await expectInertLiveAndReloaded(
      [
        ['the victim', victim],
        ['the page user', page]
      ],
      victim,
      notebook,
      forgery
    );

    // (5) The attacker marks the cell trusted too, and the victim reloads again.
    await attack(baseURL, notebook, [
      { action: 'set_cell_metadata', cell: 0, key: 'trusted', value: true }
    ]);
    await expect
      .poll(() => cellMetadata(victim, 0, 'trusted'), { timeout: RUN_TIMEOUT })
      .toBe(true);
    await reloadWithNotebook(victim, notebook);
    expect(
      await cellMetadata(victim, 0, 'trusted'),
      'the reloaded view holds the forged metadata.trusted'
    ).toBe(true);
    await expectPayloadInert(
      'the victim, reloaded with metadata.trusted forged',
      victim,
      request,
      tmpPath,
      0,
      'case-4'
    );
  });

  test('what the server ran still renders: JavaScript and a slider, in both views and after a reload', async ({
    page,
    collab
  }) => {
    const { path: notebook, other: guest } = await collab.openForTwo(
      'genuine.ipynb',
      unsigned([GENUINE_JAVASCRIPT, SLIDER])
    );
    const ran = (view: IJupyterLabPageFixture) =>
      view.evaluate(
        () => (window as unknown as { ok?: number }).ok ?? 0
      ) as Promise<number>;
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    await runCell(page, 1);
    await expectBadgeStatus(page, 1, 'ok');
    for (const view of [page, guest]) {
      await expect
        .poll(() => ran(view), { timeout: RUN_TIMEOUT })
        .toBeGreaterThanOrEqual(1);
      await expect(readout(view, 1)).toHaveText('7', { timeout: RUN_TIMEOUT });
    }

    await reloadWithNotebook(guest, notebook);
    await expect
      .poll(() => ran(guest), {
        timeout: RUN_TIMEOUT,
        message: 'the fresh page runs the JavaScript that the server wrote'
      })
      .toBeGreaterThanOrEqual(1);
    await expect(readout(guest, 1)).toHaveText('7', { timeout: RUN_TIMEOUT });
  });

  test('widgets of a kernel that is gone: forged widget state builds nothing; the saved state, once forged, shows as text', async ({
    page,
    baseURL,
    collab,
    request
  }) => {
    test.setTimeout(180000);
    const notebook = await collab.open(
      'kernel-gone.ipynb',
      unsigned([HTML_WIDGET, ANYWIDGET, SLIDER])
    );
    for (const cell of [0, 1, 2]) {
      await runCell(page, cell);
      await expectBadgeStatus(page, cell, 'ok');
    }
    await expectGenuineWidgets('the page user, who ran them', page);

    // The kernel is shut down for good: its models freeze in the doc.
    const session = await sessionOf(request, notebook);
    expect(
      (await request.delete(`/api/sessions/${session.id}`)).ok(),
      'the session is deleted'
    ).toBe(true);
    await expect
      .poll(
        async () => {
          const entries = Object.values(await widgetEntries(page));
          return entries.length > 0 && entries.every(entry => !entry.live);
        },
        { timeout: RUN_TIMEOUT, message: 'every model frozen in the doc' }
      )
      .toBe(true);
    // The file holds the saved state of the three widgets; a copy of it comes later.
    await expect
      .poll(
        async () =>
          Object.keys(
            savedModels(await savedNotebook(request, notebook))
          ).sort(),
        { timeout: 60000, message: 'the saved widget state in the file' }
      )
      .toEqual(
        expect.arrayContaining(['AnyModel', 'HTMLModel', 'IntSliderModel'])
      );
    const saved = await savedNotebook(request, notebook);
    expect(savedModels(saved).HTMLModel.value).toBe('<b>genuine html</b>');

    // The attacker forges the frozen models and the saved state.
    await attack(baseURL, notebook, [
      ...FORGED_WIDGETS.map(forged => ({
        action: 'set_widget_state_value',
        ...forged
      })),
      ...FORGED_WIDGETS.map(forged => ({
        action: 'set_saved_widget_state_value',
        ...forged
      }))
    ]);
    // The server puts its models back, kernel or not.
    await expect
      .poll(
        async () => {
          const entries = Object.values(await widgetEntries(page));
          const html = entries.find(entry => entry.model_name === 'HTMLModel');
          const esm = entries.find(entry => entry.model_name === 'AnyModel');
          return [
            html?.state.value,
            String(esm?.state._esm).includes('genuine')
          ];
        },
        { timeout: 10000, message: 'the server restores collab_widgets' }
      )
      .toEqual(['<b>genuine html</b>', true]);

    // A view with no kernel at all, and a view that starts a kernel.
    const kernelless = await collab.otherUser();
    await openWithoutKernel(kernelless, notebook);
    const victim = await collab.otherUser(notebook);
    for (const [who, view] of [
      ['a view with no kernel', kernelless],
      ['the victim, with a kernel', victim]
    ] as const) {
      expect(
        await docWidgetState(view),
        `${who}: the forged saved state is in the doc it opened`
      ).toContain('__pwnedWidget');
      // A page that never had a kernel has no widget library besides ipywidgets: the
      // widget extension hands the others only to the managers of kernels.
      await expectGenuineWidgets(who, view, { anywidget: view !== kernelless });
      expect(await widgetScriptsRan(view), `${who}: no widget script`).toEqual(
        NO_WIDGET_SCRIPT
      );
    }

    // A copy of the file as it was saved before the attack, saved trusted (signed).
    for (const cell of saved!.cells ?? []) {
      if (cell.cell_type === 'code') {
        cell.metadata = { ...cell.metadata, trusted: true };
      }
    }
    const copy = notebook.replace('kernel-gone', 'kernel-gone-copy');
    const put = await request.put(contentsUrl(copy), {
      data: { type: 'notebook', format: 'json', content: saved }
    });
    expect(put.ok(), 'saving the copy').toBe(true);
    // The page's user opens it: its saved state renders, as the file brought it.
    await openWithoutKernel(page, copy);
    await expectGenuineWidgets('the page user, on the copy', page);

    // The attacker forges the copy's saved state; the victim opens it.
    await attack(
      baseURL,
      copy,
      FORGED_WIDGETS.map(forged => ({
        action: 'set_saved_widget_state_value',
        ...forged
      }))
    );
    await openWithoutKernel(victim, copy);
    expect(
      await docWidgetState(victim),
      'the forged saved state is in the copy the victim opened'
    ).toContain('__pwnedWidget');
    // Wait until both forged widgets show as text with the note, or a script ran.
    const noteCount = async () =>
      (await cellLocator(victim, 0)
        .locator('.jp-CollabExec-widgetNote')
        .count()) +
      (await cellLocator(victim, 1)
        .locator('.jp-CollabExec-widgetNote')
        .count());
    await expect
      .poll(
        async () => {
          const ran = await widgetScriptsRan(victim);
          return (
            (await noteCount()) === 2 ||
            ran.pwnedWidget !== 'undefined' ||
            ran.pwnedEsm !== 'undefined'
          );
        },
        { timeout: RUN_TIMEOUT, message: 'the copy shows its forged widgets' }
      )
      .toBe(true);
    expect
      .soft(
        await widgetScriptsRan(victim),
        'the victim, on the copy: no widget script'
      )
      .toEqual(NO_WIDGET_SCRIPT);
    for (const [cell, text] of [
      [0, 'HTML('],
      [1, 'Counter object']
    ] as const) {
      const shown = cellLocator(victim, cell).locator('.jp-OutputArea-output');
      await expect
        .soft(
          shown.locator('.jp-CollabExec-widgetNote'),
          `cell ${cell} of the copy: the note`
        )
        .toBeVisible();
      await expect
        .soft(
          shown.locator('pre'),
          `cell ${cell} of the copy: the widget's text`
        )
        .toContainText(text);
    }
    await expect
      .soft(
        cellLocator(victim, 0).locator('img'),
        'no forged image in the copy'
      )
      .toHaveCount(0);
    for (const [who, view] of [
      ['the page user', page],
      ['a view with no kernel', kernelless]
    ] as const) {
      expect(await widgetScriptsRan(view), `${who}: no widget script`).toEqual(
        NO_WIDGET_SCRIPT
      );
    }
  });
});
