/**
 * What a notebook says about its room: the room id, the Y.Doc, and `NotebookDocWatcher`,
 * which follows a notebook widget's model and the `collab_exec` model of its doc for the
 * views (cell badges, input boxes, the toolbar item).
 */
import type { NotebookChange } from '@jupyter/ydoc';
import type { INotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import type * as Y from 'yjs';

import { CollabExecModel } from './model';

/**
 * The room id that jupyter-collaboration keeps in the shared model's state.
 */
export function notebookDocumentId(notebook: INotebookModel): string | null {
  const documentId = notebook.sharedModel.getState('document_id');
  return typeof documentId === 'string' && documentId ? documentId : null;
}

/**
 * The Y.Doc behind a notebook model, if it is a Yjs-backed shared model.
 */
export function notebookYDoc(notebook: INotebookModel): Y.Doc | null {
  const shared = notebook.sharedModel as { ydoc?: Y.Doc };
  return shared.ydoc ?? null;
}

/**
 * Follows the model of one notebook widget, and the `collab_exec` model of its doc,
 * through model swaps, and tells what changed.
 */
export class NotebookDocWatcher implements IDisposable {
  constructor(notebook: StaticNotebook) {
    this._notebook = notebook;
    notebook.modelChanged.connect(this._onModelChanged, this);
    this._setModel(notebook.model);
  }

  /**
   * Emitted after a change, with what changed.
   */
  get changed(): ISignal<this, NotebookDocWatcher.Change> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The notebook widget's model.
   */
  get model(): INotebookModel | null {
    return this._model;
  }

  /**
   * The `collab_exec` model of the doc, or null when the notebook has no Y.Doc.
   */
  get collab(): CollabExecModel | null {
    return this._collab;
  }

  /**
   * The room id, or null while the notebook is not (yet) collaborative.
   */
  get documentId(): string | null {
    return this._model ? notebookDocumentId(this._model) : null;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._setModel(null);
    this._notebook.modelChanged.disconnect(this._onModelChanged, this);
    Signal.clearData(this);
  }

  private _onModelChanged(): void {
    this._setModel(this._notebook.model);
    this._changed.emit('model');
  }

  private _setModel(model: INotebookModel | null): void {
    if (this._model && !this._model.isDisposed) {
      this._model.cells.changed.disconnect(this._onCellsChanged, this);
      this._model.sharedModel.changed.disconnect(this._onSharedChanged, this);
    }
    this._collab?.changed.disconnect(this._onCollabChanged, this);
    this._model = model;
    const ydoc = model ? notebookYDoc(model) : null;
    this._collab = ydoc ? CollabExecModel.forDoc(ydoc) : null;
    // The notebook widget connected to the cells first, so its cell widgets are up to
    // date when the views hear of the change.
    model?.cells.changed.connect(this._onCellsChanged, this);
    model?.sharedModel.changed.connect(this._onSharedChanged, this);
    this._collab?.changed.connect(this._onCollabChanged, this);
  }

  private _onCellsChanged(): void {
    this._changed.emit('cells');
  }

  private _onSharedChanged(_sender: unknown, change: NotebookChange): void {
    // The room id arrives in the shared state once the provider has synced.
    if (change.stateChange?.length) {
      this._changed.emit('state');
    }
  }

  private _onCollabChanged(): void {
    this._changed.emit('doc');
  }

  private _notebook: StaticNotebook;
  private _model: INotebookModel | null = null;
  private _collab: CollabExecModel | null = null;
  private _changed = new Signal<this, NotebookDocWatcher.Change>(this);
  private _isDisposed = false;
}

export namespace NotebookDocWatcher {
  /**
   * What changed: the widget's model, its list of cells, the notebook's shared state
   * (such as the room id), or `collab_exec`.
   */
  export type Change = 'model' | 'cells' | 'state' | 'doc';
}
