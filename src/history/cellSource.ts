/**
 * `CellSourceFollower`: the source of one cell of a shared notebook, followed through
 * edits and through the cell's removal or return (an undone delete).
 */
import type { ISharedCell, ISharedNotebook } from '@jupyter/ydoc';
import { type ISignal, Signal } from '@lumino/signaling';

import { Disposable } from '../common/disposable';

export class CellSourceFollower extends Disposable {
  constructor(notebook: ISharedNotebook, cellId: string) {
    super();
    this._notebook = notebook;
    this._cellId = cellId;
    notebook.changed.connect(this._findCell, this);
    this._findCell();
  }

  /**
   * Emitted when the source changes, or the cell goes or comes back.
   */
  get changed(): ISignal<this, string | null> {
    return this._changed;
  }

  /**
   * The cell's source now, or null when the notebook no longer has the cell.
   */
  get source(): string | null {
    return this._cell?.getSource() ?? null;
  }

  protected onDispose(): void {
    this._notebook.changed.disconnect(this._findCell, this);
    this._cell?.changed.disconnect(this._onCellChanged, this);
  }

  private _findCell(): void {
    const cell =
      this._notebook.cells.find(shared => shared.getId() === this._cellId) ??
      null;
    if (cell === this._cell) {
      return;
    }
    this._cell?.changed.disconnect(this._onCellChanged, this);
    this._cell = cell;
    this._cell?.changed.connect(this._onCellChanged, this);
    this._last = this.source;
    this._changed.emit(this._last);
  }

  private _onCellChanged(): void {
    const source = this.source;
    if (source !== this._last) {
      this._last = source;
      this._changed.emit(source);
    }
  }

  private _notebook: ISharedNotebook;
  private _cellId: string;
  private _cell: ISharedCell | null = null;
  private _last: string | null = null;
  private _changed = new Signal<this, string | null>(this);
}
