/**
 * The base of the per-cell views (the status badges, the input boxes): it follows the
 * code cells of one notebook widget and the doc, and keeps each view in its cell through
 * cells that are added, moved, removed or rendered late (windowed notebooks).
 */
import type { Cell } from '@jupyterlab/cells';
import type { StaticNotebook } from '@jupyterlab/notebook';
import type { PanelLayout, Widget } from '@lumino/widgets';

import { Disposable } from '../common/disposable';
import type { CollabExecModel } from './model';
import { NotebookDocWatcher } from './notebook';

/**
 * Where a view goes among the children of its cell: the index to insert it at.
 */
export type Position = (children: ReadonlyArray<Widget>) => number;

/**
 * Keeps views of type `W`, each in one code cell of a notebook widget, under keys of type
 * `K`. Subclasses say which views exist in `update()`, and call it at the end of their
 * constructor.
 */
export abstract class CellViewTracker<K, W extends Widget> extends Disposable {
  constructor(notebook: StaticNotebook) {
    super();
    this.notebook = notebook;
    this._watcher = new NotebookDocWatcher(notebook);
    this._watcher.changed.connect(this._onChanged, this);
    notebook.disposed.connect(this.dispose, this);
  }

  protected onDispose(): void {
    this._watcher.dispose();
    this.notebook.disposed.disconnect(this.dispose, this);
    for (const key of [...this._views.keys()]) {
      this.dropView(key);
    }
  }

  /**
   * Bring the views in line with the cells and the doc.
   */
  abstract update(): void;

  /**
   * React to a change under `collab_exec`; `update()` unless a subclass knows better.
   */
  protected onDocChanged(): void {
    this.update();
  }

  /**
   * The notebook widget whose cells hold the views.
   */
  protected readonly notebook: StaticNotebook;

  /**
   * The `collab_exec` model of the notebook's doc, if it has one.
   */
  protected get collab(): CollabExecModel | null {
    return this._watcher.collab;
  }

  /**
   * The room id of the notebook, or null while it is not collaborative.
   */
  protected get documentId(): string | null {
    return this._watcher.documentId;
  }

  /**
   * The code cell widgets of the notebook, by cell id.
   */
  protected codeCells(): Map<string, Cell> {
    const cells = new Map<string, Cell>();
    for (const cell of this.notebook.widgets) {
      if (!cell.isDisposed && cell.model?.type === 'code') {
        cells.set(cell.model.sharedModel.getId(), cell);
      }
    }
    return cells;
  }

  protected viewOf(key: K): W | null {
    return this._views.get(key)?.widget ?? null;
  }

  /**
   * Every view with its key and cell.
   */
  protected views(): Array<[K, { cell: Cell; widget: W }]> {
    return [...this._views];
  }

  /**
   * Put a view in a cell, once the cell is rendered. It goes with its cell.
   */
  protected addView(key: K, cell: Cell, widget: W, position: Position): void {
    this._views.set(key, { cell, widget });
    cell.disposed.connect(this._onCellDisposed, this);
    this._place(cell, widget, position);
  }

  /**
   * Remove a view and dispose it.
   */
  protected dropView(key: K): void {
    const view = this._views.get(key);
    if (!view) {
      return;
    }
    this._views.delete(key);
    if (![...this._views.values()].some(other => other.cell === view.cell)) {
      view.cell.disposed.disconnect(this._onCellDisposed, this);
    }
    view.widget.dispose();
  }

  private _place(cell: Cell, widget: W, position: Position): void {
    if (cell.isPlaceholder()) {
      // Windowed notebooks build a cell's children only when it is first shown.
      void cell.ready.then(() => {
        if (!cell.isDisposed && !widget.isDisposed && !widget.parent) {
          this._place(cell, widget, position);
        }
      });
      return;
    }
    const layout = cell.layout as PanelLayout;
    layout.insertWidget(position(layout.widgets), widget);
  }

  private _onCellDisposed(cell: Cell): void {
    for (const [key, view] of this.views()) {
      if (view.cell === cell) {
        this.dropView(key);
      }
    }
  }

  private _onChanged(
    _sender: NotebookDocWatcher,
    change: NotebookDocWatcher.Change
  ): void {
    if (this.isDisposed) {
      return;
    }
    if (change === 'doc') {
      this.onDocChanged();
    } else if (change !== 'state') {
      this.update();
    }
  }

  private _watcher: NotebookDocWatcher;
  private _views = new Map<K, { cell: Cell; widget: W }>();
}
