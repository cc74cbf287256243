import {
  type ISessionContext,
  type ISessionContextDialogs,
  Notification
} from '@jupyterlab/apputils';
import {
  type Cell,
  CodeCell,
  type ICodeCellModel,
  type IMarkdownCellModel,
  type IRawCellModel,
  MarkdownCell,
  RawCell
} from '@jupyterlab/cells';
import {
  type INotebookCellExecutor,
  KernelError,
  NotebookModel,
  StaticNotebook
} from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import * as Y from 'yjs';

import type {
  IAcceptedRequest,
  IExecuteBody,
  IExecutionBackend,
  IServerInfo
} from '../../server/backends';
import {
  chooseRoute,
  type Route,
  ServerCellExecutor
} from '../../execution/executor';
import { hasLocalTrust } from '../../trust/local';
import { CollabExecModel } from '../../doc/model';
import { notebookDocumentId, notebookYDoc } from '../../doc/notebook';
import { REQUESTS, type RequestStatus } from '../../doc/schema';
import {
  ALICE,
  DOCUMENT_ID,
  drain,
  entryOf,
  KERNEL_ID,
  notificationsDuring,
  track,
  withoutYjsWarnings,
  writeEntry
} from '../helpers';

/**
 * Stands in for the server: it owns its own copy of the room's Y.Doc, kept in sync with
 * the notebook's doc the way the collaboration websocket does, and writes request entries
 * and outputs into that copy as the server extension would.
 */
class FakeServer implements IExecutionBackend {
  constructor(options: { info?: IServerInfo | null } = {}) {
    this._info =
      options.info === undefined
        ? { version: '0.1.0', features: ['execute', 'input', 'cancel'] }
        : options.info;
  }

  /**
   * The server's copy of the room.
   */
  readonly doc = new Y.Doc();

  /**
   * Every execute body received, in order.
   */
  readonly bodies: IExecuteBody[] = [];

  /**
   * Accepted request ids, in order.
   */
  readonly requestIds: string[] = [];

  /**
   * When set, the next execute calls fail with this error.
   */
  failure: Error | null = null;

  /**
   * When set, accepted requests are written with this status right away, as if the
   * kernel finished before the answer of the POST reached the browser.
   */
  initialStatus: RequestStatus = 'queued';

  infoCalls = 0;

  info(): Promise<IServerInfo | null> {
    this.infoCalls++;
    return Promise.resolve(this._info);
  }

  async execute(body: IExecuteBody): Promise<IAcceptedRequest[]> {
    this.bodies.push(JSON.parse(JSON.stringify(body)) as IExecuteBody);
    this._notify();
    if (this.failure) {
      throw this.failure;
    }
    const accepted: IAcceptedRequest[] = [];
    this.doc.transact(() => {
      for (const cell of body.cells) {
        const requestId = `req-${this.requestIds.length + 1}`;
        this.requestIds.push(requestId);
        writeEntry(this.doc, REQUESTS, requestId, {
          cell_id: cell.cell_id,
          kernel_id: body.kernel_id,
          status: this.initialStatus,
          submitted_by: ALICE,
          submitted_at: 1000 + this.requestIds.length
        });
        accepted.push({ request_id: requestId, cell_id: cell.cell_id });
      }
    });
    return accepted;
  }

  /**
   * Keep `client` and the server's copy in sync, in both directions.
   */
  connect(client: Y.Doc): void {
    Y.applyUpdate(this.doc, Y.encodeStateAsUpdate(client), this);
    Y.applyUpdate(client, Y.encodeStateAsUpdate(this.doc), this);
    client.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this) {
        Y.applyUpdate(this.doc, update, this);
      }
    });
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this) {
        Y.applyUpdate(client, update, this);
      }
    });
  }

  /**
   * Change the status of a request; with `error`, also append an error output to its cell
   * in the same transaction, as the server does from the kernel's messages.
   */
  setStatus(
    requestId: string,
    status: RequestStatus,
    error?: { ename: string; evalue: string; traceback: string[] }
  ): void {
    this.doc.transact(() => {
      const entry = entryOf(this.doc, REQUESTS, requestId);
      entry.set('status', status);
      if (error) {
        const cell = this._cell(entry.get('cell_id') as string);
        const output = new Y.Map<unknown>();
        (cell.get('outputs') as Y.Array<unknown>).push([output]);
        output.set('output_type', 'error');
        output.set('ename', error.ename);
        output.set('evalue', error.evalue);
        output.set('traceback', error.traceback);
      }
    });
  }

  /**
   * Resolve once `count` execute bodies have arrived.
   */
  whenBodies(count: number): Promise<void> {
    if (this.bodies.length >= count) {
      return Promise.resolve();
    }
    return new Promise(resolve => {
      this._waiters.push({ count, resolve });
    });
  }

  private _cell(cellId: string): Y.Map<unknown> {
    for (const cell of this.doc.getArray<Y.Map<unknown>>('cells')) {
      if (cell.get('id') === cellId) {
        return cell;
      }
    }
    throw new Error(`The server has no cell ${cellId}`);
  }

  private _notify(): void {
    for (const waiter of [...this._waiters]) {
      if (this.bodies.length >= waiter.count) {
        this._waiters.splice(this._waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private _info: IServerInfo | null;
  private _waiters: Array<{ count: number; resolve: () => void }> = [];
}

/**
 * JupyterLab's own executor, as seen by ours: it only records what it is asked to run.
 */
class RecordingFallback implements INotebookCellExecutor {
  calls: INotebookCellExecutor.IRunCellOptions[] = [];
  result = true;

  runCell(options: INotebookCellExecutor.IRunCellOptions): Promise<boolean> {
    this.calls.push(options);
    return Promise.resolve(this.result);
  }
}

interface ISessionStub {
  isTerminating: boolean;
  hasNoKernel: boolean;
  session: { kernel: { id: string } | null } | null;
  startKernel: jest.Mock<Promise<boolean>, []>;
}

/**
 * There is no kernel in jest: runCell reads only isTerminating, hasNoKernel,
 * session.kernel.id and startKernel, so a small object stands in for ISessionContext.
 */
function sessionStub(overrides: Partial<ISessionStub> = {}): ISessionStub {
  return {
    isTerminating: false,
    hasNoKernel: false,
    session: { kernel: { id: KERNEL_ID } },
    startKernel: jest.fn(() => Promise.resolve(false)),
    ...overrides
  };
}

function asSessionContext(stub: ISessionStub): ISessionContext {
  return stub as unknown as ISessionContext;
}

interface IExecuted {
  cell: Cell;
  success: boolean;
  error?: KernelError | null;
}

/**
 * The options JupyterLab's runCells would pass, recording the callbacks.
 */
function runOptions(
  cell: Cell,
  notebook: NotebookModel,
  overrides: Partial<INotebookCellExecutor.IRunCellOptions> = {}
): {
  options: INotebookCellExecutor.IRunCellOptions;
  executed: IExecuted[];
  scheduled: Cell[];
} {
  const executed: IExecuted[] = [];
  const scheduled: Cell[] = [];
  const options: INotebookCellExecutor.IRunCellOptions = {
    cell,
    notebook,
    notebookConfig: StaticNotebook.defaultNotebookConfig,
    onCellExecuted: args => {
      executed.push(args);
    },
    onCellExecutionScheduled: args => {
      scheduled.push(args.cell);
    },
    sessionContext: asSessionContext(sessionStub()),
    ...overrides
  };
  return { options, executed, scheduled };
}

/**
 * A notebook with two code cells, a markdown cell and a raw cell, optionally marked as
 * collaborative the way jupyter-collaboration does (state.document_id).
 */
function createNotebook(collaborative: boolean): NotebookModel {
  const notebook = new NotebookModel({ collaborationEnabled: collaborative });
  withoutYjsWarnings(() => {
    notebook.sharedModel.insertCells(0, [
      { cell_type: 'code', source: 'print("hello")' },
      { cell_type: 'code', source: '1 / 0' },
      { cell_type: 'markdown', source: '# Title' },
      { cell_type: 'raw', source: 'raw text' }
    ]);
  });
  if (collaborative) {
    notebook.sharedModel.setState('document_id', DOCUMENT_ID);
  }
  return notebook;
}

function ydocOf(notebook: NotebookModel): Y.Doc {
  const ydoc = notebookYDoc(notebook);
  if (!ydoc) {
    throw new Error('The notebook has no Y.Doc');
  }
  return ydoc;
}

describe('chooseRoute', () => {
  type RouteOptions = Parameters<typeof chooseRoute>[0];
  const serverCase: RouteOptions = {
    cellType: 'code',
    documentId: DOCUMENT_ID,
    hasYDoc: true,
    serverAvailable: true,
    enabled: true
  };

  it('sends code cells of collaborative notebooks to the server', () => {
    expect(chooseRoute(serverCase)).toBe('server');
  });

  it.each<[string, Partial<RouteOptions>]>([
    ['a markdown cell', { cellType: 'markdown' }],
    ['a raw cell', { cellType: 'raw' }],
    ['an unknown cell type', { cellType: 'unknown' }],
    ['a notebook without document id', { documentId: null }],
    ['an empty document id', { documentId: '' }],
    ['a notebook without Y.Doc', { hasYDoc: false }],
    ['a server without the extension', { serverAvailable: false }],
    ['server execution turned off', { enabled: false }]
  ])('falls back for %s', (_label, change) => {
    expect(chooseRoute({ ...serverCase, ...change })).toBe('fallback');
  });

  it('needs every condition at once', () => {
    const flags = [true, false];
    const routes: Route[] = [];
    for (const code of flags) {
      for (const documentId of flags) {
        for (const hasYDoc of flags) {
          for (const serverAvailable of flags) {
            for (const enabled of flags) {
              routes.push(
                chooseRoute({
                  cellType: code ? 'code' : 'markdown',
                  documentId: documentId ? DOCUMENT_ID : null,
                  hasYDoc,
                  serverAvailable,
                  enabled
                })
              );
            }
          }
        }
      }
    }
    expect(routes.filter(route => route === 'server')).toHaveLength(1);
    expect(routes[0]).toBe('server');
  });
});

describe('notebookDocumentId and notebookYDoc', () => {
  it('read the room id and the Y.Doc of a collaborative notebook', () => {
    const notebook = createNotebook(true);
    expect(notebookDocumentId(notebook)).toBe(DOCUMENT_ID);
    expect(notebookYDoc(notebook)).toBeInstanceOf(Y.Doc);
    expect(notebookYDoc(notebook)).toBe(
      (notebook.sharedModel as unknown as { ydoc: Y.Doc }).ydoc
    );
    notebook.dispose();
  });

  it('find no room id in a notebook that is not collaborative', () => {
    const notebook = createNotebook(false);
    expect(notebookDocumentId(notebook)).toBeNull();
    notebook.dispose();
  });

  it('ignore a room id that is empty or not a string', () => {
    const notebook = createNotebook(false);
    notebook.sharedModel.setState('document_id', '');
    expect(notebookDocumentId(notebook)).toBeNull();
    notebook.sharedModel.setState('document_id', 42);
    expect(notebookDocumentId(notebook)).toBeNull();
    notebook.dispose();
  });
});

describe('ServerCellExecutor.runCell', () => {
  const rendermime = NBTestUtils.defaultRenderMime();
  let notebook: NotebookModel;
  let server: FakeServer;
  let fallback: RecordingFallback;
  let enabled: boolean;
  let widgets: Cell[];

  beforeEach(() => {
    notebook = createNotebook(true);
    server = new FakeServer();
    server.connect(ydocOf(notebook));
    fallback = new RecordingFallback();
    enabled = true;
    widgets = [];
  });

  afterEach(() => {
    for (const widget of widgets) {
      widget.dispose();
    }
    notebook.dispose();
    Notification.manager.dismiss();
  });

  function executor(backend: IExecutionBackend = server): ServerCellExecutor {
    return new ServerCellExecutor({
      backend,
      fallback,
      isEnabled: () => enabled
    });
  }

  /**
   * Keep a cell widget to dispose it after the test.
   */
  function kept<T extends Cell>(widget: T): T {
    widgets.push(widget);
    return widget.initializeState() as T;
  }

  function codeCell(index: number): CodeCell {
    const model = notebook.cells.get(index) as ICodeCellModel;
    const contentFactory = NBTestUtils.createCodeCellFactory();
    return kept(new CodeCell({ model, rendermime, contentFactory }));
  }

  function markdownCell(index: number): MarkdownCell {
    const model = notebook.cells.get(index) as IMarkdownCellModel;
    const contentFactory = NBTestUtils.createBaseCellFactory();
    return kept(new MarkdownCell({ model, rendermime, contentFactory }));
  }

  function rawCell(index: number): RawCell {
    const model = notebook.cells.get(index) as IRawCellModel;
    return kept(
      new RawCell({
        model,
        contentFactory: NBTestUtils.createBaseCellFactory()
      })
    );
  }

  it('builds real cells of the notebook', () => {
    expect(notebook.cells.length).toBe(4);
    expect(codeCell(0).model.type).toBe('code');
    expect(markdownCell(2).model.type).toBe('markdown');
    expect(rawCell(3).model.type).toBe('raw');
  });

  describe('on the server', () => {
    /**
     * Run code cell `index` on the server, and wait until the doc shows its request.
     */
    async function runOnServer(index: number) {
      const cell = codeCell(index);
      const { options, executed } = runOptions(cell, notebook);
      const result = executor().runCell(options);
      await server.whenBodies(1);
      await drain();
      return { cell, executed, result, requestId: server.requestIds[0] };
    }

    it('runs a code cell and resolves true once the doc shows ok', async () => {
      const cell = codeCell(0);
      cell.model.trusted = false;
      cell.model.sharedModel.deleteMetadata('trusted');
      const metadataBefore = cell.model.sharedModel.getMetadata();
      const { options, executed, scheduled } = runOptions(cell, notebook);
      const result = executor().runCell(options);
      const state = track(result);

      await server.whenBodies(1);
      expect(server.bodies).toEqual([
        {
          document_id: DOCUMENT_ID,
          kernel_id: KERNEL_ID,
          cells: [{ cell_id: cell.model.id, source: 'print("hello")' }],
          record_timing: false
        }
      ]);
      expect(scheduled).toEqual([cell]);

      await drain();
      const requestId = server.requestIds[0];
      // The entry the server wrote has reached the notebook's own doc.
      const model = CollabExecModel.forDoc(ydocOf(notebook));
      expect(model.request(requestId)?.status).toBe('queued');
      expect(model.request(requestId)?.cell_id).toBe(cell.model.id);

      server.setStatus(requestId, 'running');
      await drain();
      expect(state.settled).toBe(false);
      server.setStatus(requestId, 'awaiting_input');
      await drain();
      expect(state.settled).toBe(false);
      expect(executed).toEqual([]);

      server.setStatus(requestId, 'ok');
      await expect(result).resolves.toBe(true);
      expect(executed).toEqual([{ cell, success: true }]);
      // Trust comes from the server, never from the doc: nothing is written there.
      expect(cell.model.sharedModel.getMetadata()).toEqual(metadataBefore);
      expect(fallback.calls).toEqual([]);
    });

    it('resolves false with the kernel error when the request fails', async () => {
      const { cell, executed, result, requestId } = await runOnServer(1);

      server.setStatus(requestId, 'error', {
        ename: 'ZeroDivisionError',
        evalue: 'division by zero',
        traceback: ['Traceback', 'ZeroDivisionError: division by zero']
      });
      await expect(result).resolves.toBe(false);

      expect(executed).toHaveLength(1);
      expect(executed[0].cell).toBe(cell);
      expect(executed[0].success).toBe(false);
      const error = executed[0].error;
      expect(error).toBeInstanceOf(KernelError);
      expect(error?.errorName).toBe('ZeroDivisionError');
      expect(error?.errorValue).toBe('division by zero');
      expect(error?.traceback).toEqual([
        'Traceback',
        'ZeroDivisionError: division by zero'
      ]);
    });

    it('reports no kernel error when the failed cell shows none', async () => {
      const { cell, executed, result, requestId } = await runOnServer(1);
      server.setStatus(requestId, 'error');
      await expect(result).resolves.toBe(false);
      expect(executed).toEqual([{ cell, success: false, error: null }]);
    });

    it.each<RequestStatus>(['cancelled', 'interrupted'])(
      'resolves false without reporting an execution when %s',
      async status => {
        const { executed, result, requestId } = await runOnServer(0);
        server.setStatus(requestId, status);
        await expect(result).resolves.toBe(false);
        expect(executed).toEqual([]);
      }
    );

    it('resolves when the request finished before the POST was answered', async () => {
      server.initialStatus = 'ok';
      const cell = codeCell(0);
      const { options, executed } = runOptions(cell, notebook);
      await expect(executor().runCell(options)).resolves.toBe(true);
      expect(executed).toEqual([{ cell, success: true }]);
    });

    it('sends the current source of the cell', async () => {
      const cell = codeCell(0);
      cell.model.sharedModel.setSource('x = 2');
      const { options } = runOptions(cell, notebook);
      const result = executor().runCell(options);
      await server.whenBodies(1);
      expect(server.bodies[0].cells).toEqual([
        { cell_id: cell.model.id, source: 'x = 2' }
      ]);
      await drain();
      server.setStatus(server.requestIds[0], 'ok');
      await expect(result).resolves.toBe(true);
    });

    it('asks the server to record timing when the notebook does', async () => {
      const cell = codeCell(0);
      const { options } = runOptions(cell, notebook, {
        notebookConfig: {
          ...StaticNotebook.defaultNotebookConfig,
          recordTiming: true
        }
      });
      const result = executor().runCell(options);
      await server.whenBodies(1);
      expect(server.bodies[0].record_timing).toBe(true);
      await drain();
      server.setStatus(server.requestIds[0], 'ok');
      await expect(result).resolves.toBe(true);
    });

    it('sends cells run together in one request, in order', async () => {
      const first = codeCell(0);
      const second = codeCell(1);
      const exec = executor();
      const one = runOptions(first, notebook);
      const two = runOptions(second, notebook);
      // As JupyterLab's runCells does: one synchronous loop over the cells.
      const results = [exec.runCell(one.options), exec.runCell(two.options)];

      await server.whenBodies(1);
      await drain();
      expect(server.bodies).toHaveLength(1);
      expect(server.bodies[0].cells.map(cell => cell.cell_id)).toEqual([
        first.model.id,
        second.model.id
      ]);

      server.setStatus(server.requestIds[0], 'ok');
      server.setStatus(server.requestIds[1], 'error', {
        ename: 'ZeroDivisionError',
        evalue: 'division by zero',
        traceback: []
      });
      await expect(Promise.all(results)).resolves.toEqual([true, false]);
      expect(one.executed.map(args => args.success)).toEqual([true]);
      expect(two.executed.map(args => args.success)).toEqual([false]);
    });

    it('resolves false when the cell is disposed while it waits', async () => {
      const { cell, executed, result, requestId } = await runOnServer(0);

      cell.dispose();
      await expect(result).resolves.toBe(false);
      expect(executed).toEqual([]);

      // A late final status changes nothing.
      server.setStatus(requestId, 'ok');
      await drain();
      expect(executed).toEqual([]);
    });

    // A cell disposed while the server info is pending has a null model.
    it('resolves false when the cell is disposed while the server info is pending', async () => {
      const cell = codeCell(0);
      const { options, executed } = runOptions(cell, notebook);
      // A new executor: its server info has not arrived yet.
      const result = executor().runCell(options);
      cell.dispose();
      await expect(result).resolves.toBe(false);
      expect(executed).toEqual([]);
    });

    // A cell disposed before the POST is answered must not wait for the doc.
    it('resolves false when the cell is disposed before the POST is answered', async () => {
      const exec = executor();
      await exec.serverInfo;
      const cell = codeCell(0);
      const { options, executed } = runOptions(cell, notebook);
      const result = track(exec.runCell(options));
      // Disposed in the same tick, before the batch is even posted.
      cell.dispose();
      await server.whenBodies(1);
      await drain();
      expect(result).toEqual({ settled: true, value: false });
      expect(executed).toEqual([]);
    });

    it('resolves false and reports a failure when the POST is rejected', async () => {
      server.failure = new Error('403: Forbidden');
      const cell = codeCell(0);
      const { options, executed, scheduled } = runOptions(cell, notebook);
      const messages = await notificationsDuring(() =>
        expect(executor().runCell(options)).resolves.toBe(false)
      );

      expect(scheduled).toEqual([cell]);
      expect(executed).toEqual([{ cell, success: false }]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('403: Forbidden');
      expect(fallback.calls).toEqual([]);
    });

    it('starts a kernel first when the session has none', async () => {
      const stub = sessionStub({ hasNoKernel: true, session: null });
      stub.startKernel.mockImplementation(() => {
        stub.hasNoKernel = false;
        stub.session = { kernel: { id: 'kernel-2' } };
        return Promise.resolve(false);
      });
      const cell = codeCell(0);
      const { options } = runOptions(cell, notebook, {
        sessionContext: asSessionContext(stub)
      });
      const result = executor().runCell(options);
      await server.whenBodies(1);
      expect(stub.startKernel).toHaveBeenCalledTimes(1);
      expect(server.bodies[0].kernel_id).toBe('kernel-2');
      await drain();
      server.setStatus(server.requestIds[0], 'ok');
      await expect(result).resolves.toBe(true);
    });

    it('clears the cell as JupyterLab does when no kernel can be started', async () => {
      const stub = sessionStub({ hasNoKernel: true, session: null });
      stub.startKernel.mockResolvedValue(true);
      const selectKernel = jest.fn(() => Promise.resolve());
      const dialogs = { selectKernel } as unknown as ISessionContextDialogs;
      const cell = codeCell(0);
      const model = cell.model as ICodeCellModel;
      model.executionCount = 5;
      const { options, executed } = runOptions(cell, notebook, {
        sessionContext: asSessionContext(stub),
        sessionDialogs: dialogs
      });

      await expect(executor().runCell(options)).resolves.toBe(true);
      expect(selectKernel).toHaveBeenCalledTimes(1);
      expect(model.executionCount).toBeNull();
      expect(server.bodies).toEqual([]);
      expect(executed).toEqual([]);
      expect(fallback.calls).toEqual([]);
    });
  });

  describe('with JupyterLab executor', () => {
    /**
     * Run a cell and check that JupyterLab's executor ran it, with its result.
     */
    async function expectFallback(
      cell: Cell,
      options: {
        exec?: ServerCellExecutor;
        run?: Partial<INotebookCellExecutor.IRunCellOptions>;
      } = {}
    ): Promise<void> {
      const run = runOptions(cell, notebook, options.run).options;
      const exec = options.exec ?? executor();
      await expect(exec.runCell(run)).resolves.toBe(fallback.result);
      expect(fallback.calls).toEqual([run]);
    }

    it('runs markdown cells', async () => {
      fallback.result = false;
      await expectFallback(markdownCell(2));
      expect(fallback.result).toBe(false);
      expect(server.bodies).toEqual([]);
    });

    it('runs raw cells', async () => {
      await expectFallback(rawCell(3));
      expect(fallback.result).toBe(true);
      expect(server.bodies).toEqual([]);
    });

    it('runs code cells of a notebook that is not collaborative', async () => {
      // A notebook opened without collaboration: no room, so nothing syncs with the server.
      notebook.dispose();
      notebook = createNotebook(false);
      await expectFallback(codeCell(0));
      expect(server.bodies).toEqual([]);
    });

    it('runs code cells when the server lacks the extension', async () => {
      const bare = new FakeServer({ info: null });
      bare.connect(ydocOf(notebook));
      const exec = executor(bare);
      await expect(exec.serverInfo).resolves.toBeNull();
      await expectFallback(codeCell(0), { exec });
      expect(bare.bodies).toEqual([]);
    });

    it('waits for the server info before the first code cell', async () => {
      const bare = new FakeServer({ info: null });
      const exec = executor(bare);
      // No await between construction and runCell: the info is still pending.
      await expectFallback(codeCell(0), { exec });
      expect(bare.infoCalls).toBe(1);
    });

    it('runs code cells when server execution is turned off', async () => {
      enabled = false;
      const exec = executor();
      const cell = codeCell(0);
      const off = runOptions(cell, notebook);
      await expect(exec.runCell(off.options)).resolves.toBe(true);
      expect(fallback.calls).toEqual([off.options]);
      expect(server.bodies).toEqual([]);
      // JupyterLab ran it in this page: this page trusts what it prints, as JupyterLab does.
      expect(hasLocalTrust(cell.model)).toBe(true);

      // The setting is read at every run.
      enabled = true;
      const on = runOptions(cell, notebook);
      const result = exec.runCell(on.options);
      await server.whenBodies(1);
      await drain();
      server.setStatus(server.requestIds[0], 'ok');
      await expect(result).resolves.toBe(true);
      expect(fallback.calls).toHaveLength(1);
      // On the server, its outputs are trusted as the server confirms them.
      expect(hasLocalTrust(cell.model)).toBe(false);
    });

    it('runs code cells without a session context', async () => {
      await expectFallback(codeCell(0), { run: { sessionContext: undefined } });
      expect(server.bodies).toEqual([]);
    });

    it('runs code cells while the session is terminating', async () => {
      const sessionContext = asSessionContext(
        sessionStub({ isTerminating: true })
      );
      await expectFallback(codeCell(0), { run: { sessionContext } });
      expect(server.bodies).toEqual([]);
    });
  });

  it('exposes the server info', async () => {
    await expect(executor().serverInfo).resolves.toEqual({
      version: '0.1.0',
      features: ['execute', 'input', 'cancel']
    });
  });
});
