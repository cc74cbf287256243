/**
 * `CellHistoryView`: the history of one cell, opened from its status badge: its runs,
 * newest first, and the selected run's outputs, source and "Restore these outputs".
 */
import type { ISharedNotebook } from '@jupyter/ydoc';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  nullTranslator,
  type ITranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { SplitPanel } from '@lumino/widgets';

import type { CollabExecModel } from '../doc/model';
import type { IHistoryBackend } from '../server/backends';
import { CellSourceFollower } from './cellSource';
import { RunDetailView } from './detailView';
import { RunList } from './list';
import { RunListView } from './listView';
import type { IRunDetail, IRunSummary } from '../server/runs';

export class CellHistoryView extends SplitPanel {
  constructor(options: CellHistoryView.IOptions) {
    super({ orientation: 'horizontal', spacing: 1 });
    this.addClass('jp-CollabExec-cellHistory');
    this._backend = options.backend;
    this._documentId = options.documentId;
    this._cellId = options.cellId;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._list = new RunList({
      backend: options.backend,
      query: { documentId: options.documentId, cellId: options.cellId },
      collab: options.collab
    });
    this._listView = new RunListView({
      list: this._list,
      label: this._trans.__('Runs of this cell, newest first'),
      translator: options.translator
    });
    this._detail = new RunDetailView({
      rendermime: options.rendermime,
      translator: options.translator
    });
    this._source = new CellSourceFollower(options.notebook, options.cellId);
    this.addWidget(this._listView);
    this.addWidget(this._detail);
    this.setRelativeSizes([1, 2]);

    this._listView.selectionChanged.connect(this._onSelected, this);
    this._detail.restoreRequested.connect(this._onRestore, this);
    this._source.changed.connect(this._onSourceChanged, this);
    void this._list.load();
  }

  /**
   * The runs listed.
   */
  get list(): RunList {
    return this._list;
  }

  get cellId(): string {
    return this._cellId;
  }

  get documentId(): string {
    return this._documentId;
  }

  /**
   * Give the keyboard to the list of runs.
   */
  focusList(): void {
    this._listView.node
      .querySelector<HTMLElement>('[role="listbox"]')
      ?.focus({ preventScroll: true });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._source.dispose();
    this._list.dispose();
    super.dispose();
  }

  protected onActivateRequest(): void {
    this.focusList();
  }

  private async _onSelected(
    _view: RunListView,
    run: IRunSummary | null
  ): Promise<void> {
    const ticket = ++this._shown;
    if (!run) {
      this._detail.showRun(null);
      return;
    }
    let detail: IRunDetail;
    try {
      detail = await this._backend.historyRun(this._documentId, run.run_id);
    } catch (error) {
      if (ticket === this._shown) {
        this._detail.showRun(null);
        this._detail.setNotice(
          this._trans.__('Cannot read this run: %1', messageOf(error)),
          true
        );
      }
      return;
    }
    if (ticket === this._shown && !this.isDisposed) {
      this._detail.showRun(detail, this._source.source);
    }
  }

  private async _onRestore(
    _view: RunDetailView,
    run: IRunDetail
  ): Promise<void> {
    this._detail.setRestoring(true);
    this._detail.setNotice(this._trans.__('Restoring…'));
    try {
      await this._backend.restoreRun(
        this._documentId,
        this._cellId,
        run.run_id
      );
      if (this._detail.run?.run_id === run.run_id) {
        this._detail.setNotice(
          this._trans.__('Restored: the cell shows these outputs for everyone.')
        );
      }
    } catch (error) {
      if (this._detail.run?.run_id === run.run_id) {
        this._detail.setNotice(
          this._trans.__('Cannot restore: %1', messageOf(error)),
          true
        );
      }
    } finally {
      if (!this.isDisposed) {
        this._detail.setRestoring(false);
      }
    }
  }

  private _onSourceChanged(
    _follower: CellSourceFollower,
    source: string | null
  ): void {
    this._detail.setCurrentSource(source);
  }

  private _backend: IHistoryBackend;
  private _documentId: string;
  private _cellId: string;
  private _trans: TranslationBundle;
  private _list: RunList;
  private _listView: RunListView;
  private _detail: RunDetailView;
  private _source: CellSourceFollower;
  private _shown = 0;
}

/**
 * The server's message of an error.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export namespace CellHistoryView {
  export interface IOptions {
    backend: IHistoryBackend;
    /**
     * The room id of the notebook.
     */
    documentId: string;
    cellId: string;
    /**
     * The notebook's shared model: the cell's source now, for the diff.
     */
    notebook: ISharedNotebook;
    /**
     * The `collab_exec` model of its doc: the list refreshes as runs are recorded.
     */
    collab: CollabExecModel | null;
    /**
     * The renderers of outputs: `historyRendermime` of the application's.
     */
    rendermime: IRenderMimeRegistry;
    translator?: ITranslator;
  }
}
