/**
 * The notebook toolbar item: the kernel state and the queue as the server sees them, and
 * a button that cancels the queued cells. Read from the doc, like the cell badges.
 */
import { type ISessionContext, Notification } from '@jupyterlab/apputils';
import type { StaticNotebook } from '@jupyterlab/notebook';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import type { IQueueBackend, IServerInfo } from '../server/backends';
import { createElement, LIVE_STATUS } from '../common/dom';
import { NotebookDocWatcher } from '../doc/notebook';
import { queuedCount } from '../doc/queue';
import type {
  IKernelEntry,
  KernelExecutionState,
  RequestStatus
} from '../doc/schema';

/**
 * The class of the toolbar item.
 */
export const TOOLBAR_CLASS = 'jp-CollabExec-toolbar';

/**
 * What the toolbar item shows.
 */
export interface IQueueSummary {
  /**
   * The kernel's execution state, or null before the server has written one.
   */
  state: KernelExecutionState | null;
  kernelLabel: string;
  queued: number;
  queueLabel: string;
  title: string;
}

/**
 * The toolbar texts for a kernel entry and a number of queued requests.
 */
export function queueSummary(
  kernel: IKernelEntry | null,
  queued: number,
  trans: TranslationBundle = nullTranslator.load('jupyterlab-collab-exec')
): IQueueSummary {
  const state = kernel?.execution_state ?? null;
  const kernelLabel = kernelStateLabel(state, trans);
  const queueLabel =
    queued > 0 ? trans.__('%1 queued', queued) : trans.__('Queue empty');
  const title =
    queued > 0
      ? trans._n(
          'Server execution. Kernel state: %2. %1 cell is queued.',
          'Server execution. Kernel state: %2. %1 cells are queued.',
          queued,
          kernelLabel
        )
      : trans.__(
          'Server execution. Kernel state: %1. Nothing is queued.',
          kernelLabel
        );
  return { state, kernelLabel, queued, queueLabel, title };
}

/**
 * The kernel that a view is connected to, as JupyterLab's session of the view knows it.
 */
export interface IViewKernel {
  /**
   * The kernel's id, or null when the view has no kernel.
   */
  kernelId: string | null;
  /**
   * JupyterLab's display status of the kernel (`ISessionContext.kernelDisplayStatus`).
   */
  status: string;
}

/**
 * Which kernel record the toolbar shows: the doc's, which the server writes as it runs
 * cells, when it is about the view's kernel (or the view has none); but while the server
 * has work queued or running for that kernel, an `idle` record shows as Busy, as
 * JupyterLab's status turns Busy the moment a cell is run (the request may wait a moment
 * before the kernel gets it). Otherwise the view's kernel is Busy while the server has work
 * for it (its record is on the way), and else in JupyterLab's own status: the browsers' own
 * requests (kernel info, widget comms) make that status flicker, which the doc's record
 * does not follow. A record about another kernel (one shut down before the view opened) is
 * never shown as the state of the view's kernel.
 */
export function shownKernel(
  docKernel: IKernelEntry | null,
  view: IViewKernel | null,
  serverWorking = false
): IKernelEntry | null {
  if (!view?.kernelId || docKernel?.kernel_id === view.kernelId) {
    return serverWorking && docKernel?.execution_state === 'idle'
      ? { ...docKernel, execution_state: 'busy' }
      : docKernel;
  }
  const state = serverWorking ? 'busy' : VIEW_STATES[view.status];
  return state ? { kernel_id: view.kernelId, execution_state: state } : null;
}

/**
 * JupyterLab's display statuses of a kernel, as the states of the doc's kernel record;
 * the others ("unknown", "disconnected", ...) show as Unknown.
 */
const VIEW_STATES: Record<string, KernelExecutionState | undefined> = {
  idle: 'idle',
  busy: 'busy',
  starting: 'starting',
  initializing: 'starting',
  connecting: 'starting',
  restarting: 'restarting',
  autorestarting: 'restarting',
  terminating: 'dead',
  dead: 'dead'
};

/**
 * The statuses of a request that the server has not finished.
 */
const ACTIVE_STATUSES: ReadonlyArray<RequestStatus> = [
  'queued',
  'running',
  'awaiting_input'
];

function kernelStateLabel(
  state: KernelExecutionState | null,
  trans: TranslationBundle
): string {
  switch (state) {
    case 'idle':
      return trans.__('Idle');
    case 'busy':
      return trans.__('Busy');
    case 'starting':
      return trans.__('Starting');
    case 'restarting':
      return trans.__('Restarting');
    case 'dead':
      return trans.__('Dead');
    default:
      return trans.__('Unknown');
  }
}

/**
 * The toolbar item of one notebook panel. It is hidden unless the notebook is
 * collaborative and the server has the extension.
 */
export class QueueToolbarItem extends Widget {
  constructor(options: QueueToolbarItem.IOptions) {
    super();
    this._watcher = new NotebookDocWatcher(options.notebook);
    this._backend = options.backend;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this.addClass(TOOLBAR_CLASS);

    this._state = createElement(
      'span',
      'jp-CollabExec-kernelState',
      LIVE_STATUS
    );
    this._queue = createElement('span', 'jp-CollabExec-queueLength');
    this._button = createElement('button', 'jp-CollabExec-cancelQueued');
    this._button.type = 'button';
    this._button.textContent = this._trans.__('Cancel queued');
    this._button.title = this._trans.__(
      'Cancel the queued cells of this notebook, for every collaborator'
    );
    this._button.addEventListener('click', this._onClick);
    this.node.append(this._state, this._queue, this._button);

    this._watcher.changed.connect(this._update, this);
    this._sessionContext = options.sessionContext ?? null;
    this._sessionContext?.statusChanged.connect(this._update, this);
    this._sessionContext?.kernelChanged.connect(this._update, this);
    this._update();
    options.serverInfo
      .catch(() => null)
      .then(info => {
        this._info = info;
        this._update();
      });
  }

  /**
   * What is shown, or null while the item is hidden.
   */
  get summary(): IQueueSummary | null {
    return this._summary;
  }

  /**
   * Ask the server to cancel every queued request of this notebook.
   */
  async cancelQueued(): Promise<void> {
    const documentId = this._watcher.documentId;
    if (!documentId || this._pending) {
      return;
    }
    this._pending = true;
    this._update();
    try {
      await this._backend.cancel(documentId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      Notification.error(
        this._trans.__('Could not cancel the queued cells: %1', message),
        { autoClose: 5000 }
      );
    } finally {
      this._pending = false;
      this._update();
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._button.removeEventListener('click', this._onClick);
    this._sessionContext?.statusChanged.disconnect(this._update, this);
    this._sessionContext?.kernelChanged.disconnect(this._update, this);
    this._watcher.dispose();
    super.dispose();
  }

  private _onClick = (): void => {
    void this.cancelQueued();
  };

  private _update(): void {
    if (this.isDisposed) {
      return;
    }
    const collab = this._watcher.collab;
    if (!this._info || this._watcher.documentId === null || !collab) {
      this._summary = null;
      this.hide();
      return;
    }
    const sessionContext = this._sessionContext;
    const view: IViewKernel | null = sessionContext
      ? {
          kernelId: sessionContext.session?.kernel?.id ?? null,
          status: sessionContext.kernelDisplayStatus
        }
      : null;
    const requests = collab.requests();
    const working = requests.some(
      entry =>
        entry.kernel_id === view?.kernelId &&
        ACTIVE_STATUSES.includes(entry.status)
    );
    const summary = queueSummary(
      shownKernel(collab.kernel, view, working),
      queuedCount(requests),
      this._trans
    );
    this._summary = summary;
    const state = summary.state ?? 'unknown';
    if (this._state.dataset.state !== state) {
      this._state.dataset.state = state;
    }
    if (this._state.textContent !== summary.kernelLabel) {
      this._state.textContent = summary.kernelLabel;
      this._state.setAttribute(
        'aria-label',
        this._trans.__('Kernel state: %1', summary.kernelLabel)
      );
    }
    this._queue.textContent = summary.queueLabel;
    this._queue.dataset.count = String(summary.queued);
    this.node.title = summary.title;
    this._button.disabled =
      summary.queued === 0 ||
      this._pending ||
      !this._info.features.includes('cancel');
    this.show();
  }

  private _watcher: NotebookDocWatcher;
  private _sessionContext: ISessionContext | null;
  private _backend: IQueueBackend;
  private _trans: TranslationBundle;
  private _state: HTMLElement;
  private _queue: HTMLElement;
  private _button: HTMLButtonElement;
  private _info: IServerInfo | null = null;
  private _pending = false;
  private _summary: IQueueSummary | null = null;
}

export namespace QueueToolbarItem {
  export interface IOptions {
    /**
     * The notebook widget of the panel.
     */
    notebook: StaticNotebook;
    /**
     * The session of the view: without it, the doc's kernel record is shown.
     */
    sessionContext?: ISessionContext;
    backend: IQueueBackend;
    /**
     * The server's info; the item stays hidden while it is null.
     */
    serverInfo: Promise<IServerInfo | null>;
    translator?: ITranslator;
  }
}
