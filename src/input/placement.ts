/**
 * The placement of the input boxes in one notebook view: a `CollabInputWidget` right
 * below the outputs of every code cell whose kernel waits for input, for every pending
 * entry of `collab_exec.inputs`, in every open view of the notebook.
 */
import type { Cell } from '@jupyterlab/cells';
import type { StaticNotebook } from '@jupyterlab/notebook';
import type { ITranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';

import type { IInputBackend } from '../server/backends';
import { CellViewTracker } from '../doc/cellViews';
import { InputHistory } from './history';
import { CollabInputWidget, INPUT_CLASS } from './widget';
import type { CollabExecModel } from '../doc/model';
import type { IInputEntry } from '../doc/schema';

/**
 * Keeps an input widget, keyed by input id, in every code cell whose kernel waits for
 * input, in one notebook view.
 */
export class CellInputTracker extends CellViewTracker<
  string,
  CollabInputWidget
> {
  constructor(options: CellInputTracker.IOptions) {
    super(options.notebook);
    this._backend = options.backend;
    this._translator = options.translator;
    this._history = options.history ?? InputHistory.session;
    this._username = options.username ?? (() => null);
    this._isCurrent = options.isCurrent ?? (() => false);
    this.update();
  }

  /**
   * The widget of an input, if this view shows one.
   */
  widgetFor(inputId: string): CollabInputWidget | null {
    return this.viewOf(inputId);
  }

  update(): void {
    if (this.isDisposed) {
      return;
    }
    const collab = this.collab;
    const cells = this.codeCells();
    const entries = collab ? collab.inputs() : [];
    const byId = new Map(entries.map(entry => [entry.input_id, entry]));

    for (const [inputId, view] of this.views()) {
      const entry = byId.get(inputId);
      if (
        !collab ||
        view.widget.isDisposed ||
        !entry ||
        cells.get(entry.cell_id) !== view.cell ||
        !this._keep(collab, view.widget, entry)
      ) {
        this.dropView(inputId);
      }
    }
    if (!collab) {
      return;
    }
    for (const entry of entries) {
      const cell = cells.get(entry.cell_id);
      if (entry.status === 'pending' && cell && !this.viewOf(entry.input_id)) {
        this._create(collab, cell, entry);
      }
    }
  }

  /**
   * Whether a widget stays: a box while its entry is pending or its answer is on the
   * way; a conflict note until the cell runs again.
   */
  private _keep(
    collab: CollabExecModel,
    widget: CollabInputWidget,
    entry: IInputEntry
  ): boolean {
    switch (widget.phase) {
      case 'editing':
      case 'submitted':
        return entry.status === 'pending';
      case 'posting':
        return true;
      case 'conflict':
        return (
          collab.latestRequestForCell(entry.cell_id)?.request_id ===
          entry.request_id
        );
    }
  }

  private _create(
    collab: CollabExecModel,
    cell: Cell,
    entry: IInputEntry
  ): void {
    const widget = new CollabInputWidget({
      model: collab,
      entry,
      backend: this._backend,
      documentId: () => this.documentId,
      history: this._history,
      shouldFocus: () => this._shouldFocus(collab, entry),
      translator: this._translator
    });
    widget.phaseChanged.connect(this._onPhaseChanged, this);
    this.addView(entry.input_id, cell, widget, belowOutputs);
  }

  /**
   * Focus a new box only for the person who ran the cell, and only in the notebook they
   * are looking at; never take the focus from anyone else.
   */
  private _shouldFocus(collab: CollabExecModel, entry: IInputEntry): boolean {
    const me = this._username();
    const request = collab.request(entry.request_id);
    return (
      !!me &&
      !!request &&
      request.submitted_by.username === me &&
      this._isCurrent()
    );
  }

  private _onPhaseChanged(): void {
    this.update();
  }

  private _backend: IInputBackend;
  private _translator: ITranslator | undefined;
  private _history: InputHistory;
  private _username: () => string | null;
  private _isCurrent: () => boolean;
}

/**
 * Right below the cell's outputs, after the input boxes already there.
 */
function belowOutputs(children: ReadonlyArray<Widget>): number {
  let index = children.findIndex(child =>
    child.hasClass('jp-Cell-outputWrapper')
  );
  if (index < 0) {
    index = children.length - 1;
  }
  while (
    index + 1 < children.length &&
    children[index + 1].hasClass(INPUT_CLASS)
  ) {
    index++;
  }
  return index + 1;
}

export namespace CellInputTracker {
  export interface IOptions {
    /**
     * The notebook widget whose cells get input widgets.
     */
    notebook: StaticNotebook;
    backend: IInputBackend;
    translator?: ITranslator;
    /**
     * The answers given in this browser; the session's history by default.
     */
    history?: InputHistory;
    /**
     * The username of the person using this browser, if known.
     */
    username?: () => string | null;
    /**
     * Whether this notebook is the one the user is looking at.
     */
    isCurrent?: () => boolean;
  }
}
