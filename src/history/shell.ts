/**
 * `HistoryShell`: where the history views meet the application: it opens a cell's
 * history next to its notebook, keeps the Activity panel on the current notebook, and
 * takes people to the cell of a run.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, Notification } from '@jupyterlab/apputils';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  nullTranslator,
  type ITranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { historyIcon } from '@jupyterlab/ui-components';

import { Disposable } from '../common/disposable';
import { CollabExecModel } from '../doc/model';
import { notebookDocumentId, notebookYDoc } from '../doc/notebook';
import type { IHistoryBackend } from '../server/backends';
import { ActivityPanel, type IActivitySource } from './activity';
import { CellHistoryView } from './cellHistory';
import { historyRendermime } from './detailView';
import type { IRunSummary } from '../server/runs';

/**
 * The id of the Activity side panel.
 */
export const ACTIVITY_ID = 'jp-CollabExec-activity';

export class HistoryShell extends Disposable {
  constructor(options: HistoryShell.IOptions) {
    super();
    this._app = options.app;
    this._backend = options.backend;
    this._notebooks = options.notebooks;
    this._rendermime = historyRendermime(options.rendermime);
    this._translator = options.translator ?? nullTranslator;
    this._trans = this._translator.load('jupyterlab-collab-exec');
    this._splitMainArea = options.splitMainArea;

    this._activity = new ActivityPanel({
      backend: this._backend,
      translator: this._translator
    });
    this._activity.id = ACTIVITY_ID;
    this._activity.title.icon = historyIcon;
    this._activity.cellRequested.connect(this._onCellRequested, this);
    this._notebooks.currentChanged.connect(this._onCurrentChanged, this);
    this._onCurrentChanged();
  }

  /**
   * The Activity side panel, to add to the shell.
   */
  get activity(): ActivityPanel {
    return this._activity;
  }

  /**
   * Open the history of a cell of the notebook at `path` (the current notebook when
   * left out), of its active cell when `cellId` is left out; an open one is shown again.
   */
  openCellHistory(path?: string, cellId?: string): void {
    const panel =
      path !== undefined
        ? (this._notebooks.find(widget => widget.context.path === path) ?? null)
        : this._notebooks.currentWidget;
    const model = panel?.content.model;
    const id = cellId ?? panel?.content.activeCell?.model.sharedModel.getId();
    const documentId = model ? notebookDocumentId(model) : null;
    if (!panel || !model || !id || !documentId) {
      return;
    }
    const key = `${documentId}\n${id}`;
    const existing = this._opened.get(key);
    if (existing && !existing.isDisposed) {
      this._app.shell.activateById(existing.id);
      return;
    }
    const ydoc = notebookYDoc(model);
    const content = new CellHistoryView({
      backend: this._backend,
      documentId,
      cellId: id,
      notebook: model.sharedModel,
      collab: ydoc ? CollabExecModel.forDoc(ydoc) : null,
      rendermime: this._rendermime,
      translator: this._translator
    });
    const widget = new MainAreaWidget({ content });
    widget.id = `jp-CollabExec-cellHistory-${++this._count}`;
    widget.addClass('jp-CollabExec-cellHistoryPanel');
    const cell = this._cellLabel(panel, id);
    widget.title.label = this._trans.__(
      'History of %1 · %2',
      cell,
      panel.title.label
    );
    widget.title.caption = this._trans.__(
      'Run history of %1 in %2',
      cell,
      panel.context.path
    );
    widget.title.icon = historyIcon;
    widget.title.closable = true;
    this._opened.set(key, widget);
    widget.disposed.connect(() => this._opened.delete(key));
    panel.disposed.connect(() => widget.dispose());
    if (this._splitMainArea) {
      this._app.shell.add(widget, 'main', {
        mode: 'split-right',
        ref: panel.id
      });
    } else {
      // Notebook 7 shows one main widget: the history goes to its side panel.
      this._app.shell.add(widget, 'right', { rank: 900 });
    }
    this._app.shell.activateById(widget.id);
  }

  protected onDispose(): void {
    this._notebooks.currentChanged.disconnect(this._onCurrentChanged, this);
    this._followed?.content.model?.cells.changed.disconnect(
      this._relabel,
      this
    );
    for (const widget of this._opened.values()) {
      widget.dispose();
    }
    this._activity.dispose();
  }

  /**
   * What to call a cell: its position in the notebook, as people count.
   */
  private _cellLabel(panel: NotebookPanel, cellId: string): string {
    const index = panel.content.widgets.findIndex(
      cell => cell.model.sharedModel.getId() === cellId
    );
    return index >= 0
      ? this._trans.__('Cell %1', index + 1)
      : this._trans.__('A deleted cell');
  }

  private _cellLabels(panel: NotebookPanel): Map<string, string> {
    return new Map(
      panel.content.widgets.map((cell, index) => [
        cell.model.sharedModel.getId(),
        this._trans.__('Cell %1', index + 1)
      ])
    );
  }

  private _onCurrentChanged(): void {
    this._followed?.content.model?.cells.changed.disconnect(
      this._relabel,
      this
    );
    const panel = this._notebooks.currentWidget;
    this._followed = panel;
    panel?.content.model?.cells.changed.connect(this._relabel, this);
    this._activity.setSource(this._source(panel));
    // The room id is known once the collaborative model is ready.
    void panel?.context.ready.then(() => {
      if (!this.isDisposed && this._followed === panel) {
        this._activity.setSource(this._source(panel));
      }
    });
  }

  private _source(panel: NotebookPanel | null): IActivitySource | null {
    const model = panel?.content.model;
    const documentId = model ? notebookDocumentId(model) : null;
    if (!panel || !model || !documentId) {
      return null;
    }
    const ydoc = notebookYDoc(model);
    return {
      documentId,
      collab: ydoc ? CollabExecModel.forDoc(ydoc) : null,
      cellLabels: this._cellLabels(panel)
    };
  }

  private _relabel(): void {
    if (this._followed) {
      this._activity.setCellLabels(this._cellLabels(this._followed));
    }
  }

  private async _onCellRequested(
    _activity: ActivityPanel,
    run: IRunSummary
  ): Promise<void> {
    const panel = this._followed;
    if (!panel || panel.isDisposed) {
      return;
    }
    const notebook = panel.content;
    const index = notebook.widgets.findIndex(
      cell => cell.model.sharedModel.getId() === run.cell_id
    );
    if (index < 0) {
      Notification.warning(
        this._trans.__('The cell of this run is no longer in the notebook.'),
        { autoClose: 5000 }
      );
      return;
    }
    this._app.shell.activateById(panel.id);
    notebook.deselectAll();
    notebook.activeCellIndex = index;
    notebook.mode = 'command';
    await notebook.scrollToItem(index);
    notebook.activeCell?.node.focus();
  }

  private _app: JupyterFrontEnd;
  private _backend: IHistoryBackend;
  private _notebooks: INotebookTracker;
  private _rendermime: IRenderMimeRegistry;
  private _translator: ITranslator;
  private _trans: TranslationBundle;
  private _splitMainArea: boolean;
  private _activity: ActivityPanel;
  private _followed: NotebookPanel | null = null;
  private _opened = new Map<string, MainAreaWidget<CellHistoryView>>();
  private _count = 0;
}

export namespace HistoryShell {
  export interface IOptions {
    app: JupyterFrontEnd;
    backend: IHistoryBackend;
    notebooks: INotebookTracker;
    /**
     * The application's renderers; old runs render without the widget view.
     */
    rendermime: IRenderMimeRegistry;
    translator?: ITranslator;
    /**
     * Whether a cell's history opens beside its notebook (JupyterLab), or in the right
     * side panel (Notebook 7, which shows one main widget).
     */
    splitMainArea: boolean;
  }
}
