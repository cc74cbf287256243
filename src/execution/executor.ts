/**
 * The cell executor: code cells of collaborative notebooks run on the server, which
 * writes into the shared document; `runCell` resolves from the doc. Everything else runs
 * with JupyterLab's own executor.
 */
import { Notification } from '@jupyterlab/apputils';
import type { ICodeCellModel } from '@jupyterlab/cells';
import type * as nbformat from '@jupyterlab/nbformat';
import { type INotebookCellExecutor, KernelError } from '@jupyterlab/notebook';
import type { KernelMessage } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';

import type { IExecutionBackend, IServerInfo } from '../server/backends';
import { ExecutionBatcher } from './batch';
import { CollabExecModel } from '../doc/model';
import { grantLocalTrust, revokeLocalTrust } from '../trust/local';
import { notebookDocumentId, notebookYDoc } from '../doc/notebook';

/**
 * Where a cell runs.
 */
export type Route = 'server' | 'fallback';

/**
 * Choose where a cell runs: code cells of a collaborative notebook go to the server when
 * it has the extension and the user has not turned server execution off.
 */
export function chooseRoute(options: {
  cellType: string;
  documentId: string | null;
  hasYDoc: boolean;
  serverAvailable: boolean;
  enabled: boolean;
}): Route {
  const collaborative = !!options.documentId && options.hasYDoc;
  return options.cellType === 'code' &&
    collaborative &&
    options.serverAvailable &&
    options.enabled
    ? 'server'
    : 'fallback';
}

/**
 * Runs code cells of collaborative notebooks on the server and everything else with
 * JupyterLab's own executor.
 */
export class ServerCellExecutor implements INotebookCellExecutor {
  constructor(options: ServerCellExecutor.IOptions) {
    this._fallback = options.fallback;
    this._isEnabled = options.isEnabled;
    this._batcher = new ExecutionBatcher(options.backend, options.schedule);
    this._serverInfo = options.backend
      .info()
      .catch(reason => {
        console.warn('jupyterlab-collab-exec: no server info', reason);
        return null;
      })
      .then(info => {
        this._info = info;
        return info;
      });
  }

  /**
   * The server's info, or null once it is known that the server lacks the extension.
   */
  get serverInfo(): Promise<IServerInfo | null> {
    return this._serverInfo;
  }

  async runCell(
    options: INotebookCellExecutor.IRunCellOptions
  ): Promise<boolean> {
    const { cell, notebook } = options;
    const documentId = notebookDocumentId(notebook);
    const ydoc = notebookYDoc(notebook);
    if (cell.model.type === 'code' && this._info === undefined) {
      await this._serverInfo;
      if (cell.isDisposed) {
        return false;
      }
    }
    const route = chooseRoute({
      cellType: cell.model.type,
      documentId,
      hasYDoc: ydoc !== null,
      serverAvailable: !!this._info,
      enabled: this._isEnabled()
    });
    const sessionContext = options.sessionContext;
    if (
      route === 'fallback' ||
      !documentId ||
      !ydoc ||
      !sessionContext ||
      sessionContext.isTerminating
    ) {
      // JupyterLab runs it in this page, and trusts what it prints, as it always does.
      grantLocalTrust(cell.model);
      return this._fallback.runCell(options);
    }

    const model = cell.model as ICodeCellModel;
    revokeLocalTrust(model);
    if (sessionContext.hasNoKernel) {
      const shouldSelect = await sessionContext.startKernel();
      if (shouldSelect && options.sessionDialogs) {
        await options.sessionDialogs.selectKernel(sessionContext);
      }
    }
    const kernelId = sessionContext.session?.kernel?.id;
    if (sessionContext.hasNoKernel || !kernelId) {
      model.sharedModel.transact(() => {
        model.clearExecution();
      });
      return true;
    }

    const accepted = this._batcher.add({
      documentId,
      kernelId,
      cell: {
        cell_id: model.sharedModel.getId(),
        source: model.sharedModel.getSource()
      },
      recordTiming: !!options.notebookConfig.recordTiming
    });
    options.onCellExecutionScheduled({ cell });

    let requestId: string;
    try {
      requestId = (await accepted).request_id;
    } catch (error) {
      if (cell.isDisposed) {
        return false;
      }
      const trans = (options.translator ?? nullTranslator).load(
        'jupyterlab-collab-exec'
      );
      const message = error instanceof Error ? error.message : String(error);
      Notification.error(
        trans.__('The server could not run the cell: %1', message),
        { autoClose: 5000 }
      );
      options.onCellExecuted({ cell, success: false });
      return false;
    }
    if (cell.isDisposed) {
      return false;
    }
    // The outputs of the run are trusted as the server confirms them (cellTrust.ts):
    // setting the cell trusted would write `metadata.trusted` into the shared document.

    const abort = new AbortController();
    const onDisposed = () => abort.abort();
    cell.disposed.connect(onDisposed);
    const status = await CollabExecModel.forDoc(ydoc).whenFinished(
      requestId,
      abort.signal
    );
    cell.disposed.disconnect(onDisposed);

    if (status === 'ok') {
      options.onCellExecuted({ cell, success: true });
      return true;
    }
    if (status === 'error') {
      options.onCellExecuted({
        cell,
        success: false,
        error: kernelErrorFromOutputs(model)
      });
    }
    return false;
  }

  private _fallback: INotebookCellExecutor;
  private _isEnabled: () => boolean;
  private _batcher: ExecutionBatcher;
  private _serverInfo: Promise<IServerInfo | null>;
  private _info: IServerInfo | null | undefined = undefined;
}

/**
 * The error a failed cell shows, as the KernelError JupyterLab would have raised.
 */
export function kernelErrorFromOutputs(
  model: ICodeCellModel
): KernelError | null {
  for (let index = model.outputs.length - 1; index >= 0; index--) {
    const output = model.outputs.get(index).toJSON();
    if (output.output_type === 'error') {
      const error = output as nbformat.IError;
      const content: KernelMessage.IExecuteReplyMsg['content'] = {
        status: 'error',
        ename: error.ename,
        evalue: error.evalue,
        traceback: error.traceback,
        execution_count: model.executionCount
      };
      return new KernelError(content);
    }
  }
  return null;
}

export namespace ServerCellExecutor {
  export interface IOptions {
    /**
     * The server API.
     */
    backend: IExecutionBackend;
    /**
     * JupyterLab's own executor, for everything that does not go to the server.
     */
    fallback: INotebookCellExecutor;
    /**
     * Whether the user has server execution turned on.
     */
    isEnabled: () => boolean;
    /**
     * How batches are scheduled; a macrotask by default.
     */
    schedule?: (flush: () => void) => void;
  }
}
