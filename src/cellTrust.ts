/**
 * Trust for the outputs of cells that the server ran, in every view of the notebook.
 *
 * JupyterLab trusts what a cell prints when it runs the cell (`CodeCell.execute` sets
 * the cell model trusted), so that widgets, HTML and the other unsafe mime types render.
 * A collaborator's view of the same cell never ran it, and shows a widget as its text
 * (`IntSlider(value=3)`). A cell in `collab_exec.requests` was run by an authenticated
 * collaborator of the room, so each view trusts it as the person who ran it does.
 */
import type { StaticNotebook } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';

import { NotebookDocWatcher } from './notebookDoc';

export class ServerRunTrust implements IDisposable {
  constructor(notebook: StaticNotebook) {
    this._watcher = new NotebookDocWatcher(notebook);
    this._watcher.changed.connect(this._update, this);
    notebook.disposed.connect(this.dispose, this);
    this._update();
  }

  get isDisposed(): boolean {
    return this._watcher.isDisposed;
  }

  dispose(): void {
    this._watcher.dispose();
  }

  private _update(): void {
    const collab = this._watcher.collab;
    const model = this._watcher.model;
    if (!collab || !model || this.isDisposed) {
      return;
    }
    const ran = new Set(collab.requests().map(request => request.cell_id));
    if (!ran.size) {
      return;
    }
    for (const cell of model.cells) {
      if (cell.type === 'code' && !cell.trusted && ran.has(cell.id)) {
        cell.trusted = true;
      }
    }
  }

  private _watcher: NotebookDocWatcher;
}
