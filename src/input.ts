/**
 * The collaborative input widget: a box in the cell for every pending entry of
 * `collab_exec.inputs`, in every open view of the notebook.
 *
 * - A plain input is bound to the entry's shared `value` Y.Text: everyone sees what is
 *   typed, concurrent typing merges, and a reload restores it.
 * - A password input keeps its value in this browser; everyone sees that a password is
 *   awaited, and anyone can answer.
 * - Enter posts the answer; the server decides which answer reaches the kernel, and the
 *   doc tells every view when the input is settled.
 */
import { Notification } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import type { INotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import type { Message } from '@lumino/messaging';
import { type ISignal, Signal } from '@lumino/signaling';
import { type PanelLayout, Widget } from '@lumino/widgets';
import type * as Y from 'yjs';

import type { IInputBackend, InputAnswer } from './api';
import { notebookDocumentId, notebookYDoc } from './executor';
import { CollabExecModel } from './model';
import type { IInputEntry } from './schema';

/**
 * The class of every input widget.
 */
export const INPUT_CLASS = 'jp-CollabExec-input';

/**
 * How many answers the history keeps, as JupyterLab's Stdin does.
 */
export const HISTORY_LENGTH = 1000;

/* ------------------------------------------------------------------------------------
 * Pure logic: no DOM, no doc.
 * ---------------------------------------------------------------------------------- */

/**
 * One edit that turns a text into another: remove `remove` characters at `index`, then
 * insert `insert` there. Indexes count UTF-16 code units, as Y.Text and inputs do.
 */
export interface ITextEdit {
  index: number;
  remove: number;
  insert: string;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * The smallest single edit from `before` to `after`, from their common prefix and
 * suffix; null when they are equal. It never splits a surrogate pair.
 */
export function diffText(before: string, after: string): ITextEdit | null {
  if (before === after) {
    return null;
  }
  const shortest = Math.min(before.length, after.length);
  let start = 0;
  while (
    start < shortest &&
    before.charCodeAt(start) === after.charCodeAt(start)
  ) {
    start++;
  }
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) {
    start--;
  }
  let end = 0;
  while (
    end < shortest - start &&
    before.charCodeAt(before.length - 1 - end) ===
      after.charCodeAt(after.length - 1 - end)
  ) {
    end++;
  }
  if (end > 0 && isLowSurrogate(before.charCodeAt(before.length - end))) {
    end--;
  }
  return {
    index: start,
    remove: before.length - start - end,
    insert: after.slice(start, after.length - end)
  };
}

/**
 * One operation of a Y.Text event's delta.
 */
export interface IDeltaOperation {
  insert?: unknown;
  retain?: number;
  delete?: number;
}

/**
 * Where a position in a text goes after a change, given as a Y.Text delta.
 *
 * @param stickRight - whether text inserted exactly at the position goes before it (the
 *   position moves right) or after it (the position stays).
 */
export function transformPosition(
  position: number,
  delta: ReadonlyArray<IDeltaOperation>,
  stickRight = false
): number {
  let index = 0;
  let moved = position;
  for (const operation of delta) {
    if (index > position) {
      break;
    }
    if (operation.retain !== undefined) {
      index += operation.retain;
    } else if (operation.delete !== undefined) {
      if (index < position) {
        moved -= Math.min(operation.delete, position - index);
      }
      index += operation.delete;
    } else if (operation.insert !== undefined) {
      const length =
        typeof operation.insert === 'string' ? operation.insert.length : 1;
      if (index < position || (index === position && stickRight)) {
        moved += length;
      }
    }
  }
  return moved;
}

/**
 * The answers given in this browser, newest last, for the history keys. Like JupyterLab's
 * Stdin with `inputHistoryScope: 'global'`, one history serves every notebook of the
 * session. Passwords never go in.
 *
 * Indexes are negative, counted from the newest answer (-1), as JupyterLab counts them;
 * 0 stands for "not in the history".
 */
export class InputHistory {
  constructor(maxLength = HISTORY_LENGTH) {
    this._maxLength = maxLength;
  }

  /**
   * The history shared by every input widget of this browser session.
   */
  static readonly session = new InputHistory();

  get length(): number {
    return this._lines.length;
  }

  /**
   * Every answer, oldest first.
   */
  get lines(): ReadonlyArray<string> {
    return this._lines;
  }

  /**
   * Remember an answer. Empty answers and repeats of the newest one are left out.
   */
  push(line: string): void {
    if (!line || this._lines[this._lines.length - 1] === line) {
      return;
    }
    this._lines.push(line);
    if (this._lines.length > this._maxLength) {
      this._lines.shift();
    }
  }

  /**
   * The answer at a negative index, if there is one.
   */
  at(index: number): string | undefined {
    if (index >= 0 || -index > this._lines.length) {
      return undefined;
    }
    return this._lines[this._lines.length + index];
  }

  /**
   * The index of the nearest answer that starts with `prefix`, older than `from`
   * (`reverse`) or newer; undefined when there is none.
   */
  search(prefix: string, from: number, reverse: boolean): number | undefined {
    const length = this._lines.length;
    if (reverse) {
      for (let index = from - 1; -index <= length; index--) {
        if (this._lines[length + index].startsWith(prefix)) {
          return index;
        }
      }
    } else {
      for (let index = from + 1; index < 0; index++) {
        if (this._lines[length + index].startsWith(prefix)) {
          return index;
        }
      }
    }
    return undefined;
  }

  clear(): void {
    this._lines = [];
  }

  private _lines: string[] = [];
  private _maxLength: number;
}

/* ------------------------------------------------------------------------------------
 * The binding between an <input> and a Y.Text.
 * ---------------------------------------------------------------------------------- */

/**
 * Keeps an <input> and a shared Y.Text equal: local typing becomes minimal edits of the
 * Text, and remote edits update the input without moving its caret.
 */
export class SharedInputBinding implements IDisposable {
  constructor(input: HTMLInputElement, text: Y.Text) {
    this._input = input;
    this._text = text;
    input.value = text.toString();
    text.observe(this._onTextChange);
    input.addEventListener('input', this._onInput);
  }

  get text(): Y.Text {
    return this._text;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Write what the input shows into the Text, as one minimal edit in one transaction.
   * Call it after changing the input's value from code.
   */
  syncFromInput(): void {
    if (this._isDisposed) {
      return;
    }
    const edit = diffText(this._text.toString(), this._input.value);
    if (!edit) {
      return;
    }
    const apply = () => {
      if (edit.remove > 0) {
        this._text.delete(edit.index, edit.remove);
      }
      if (edit.insert) {
        this._text.insert(edit.index, edit.insert);
      }
    };
    const doc = this._text.doc;
    if (doc) {
      doc.transact(apply, this);
    } else {
      apply();
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._text.unobserve(this._onTextChange);
    this._input.removeEventListener('input', this._onInput);
  }

  private _onInput = (): void => {
    this.syncFromInput();
  };

  private _onTextChange = (
    event: Y.YTextEvent,
    transaction: Y.Transaction
  ): void => {
    if (transaction.origin === this) {
      return;
    }
    const input = this._input;
    const value = this._text.toString();
    if (input.value === value) {
      return;
    }
    const focused = input.ownerDocument.activeElement === input;
    const start = input.selectionStart;
    const end = input.selectionEnd;
    const direction = input.selectionDirection;
    input.value = value;
    if (focused && start !== null && end !== null) {
      const delta = event.delta as IDeltaOperation[];
      const collapsed = start === end;
      // A selection does not grow with text inserted at its edges; a caret stays
      // before text inserted where it stands.
      const newStart = transformPosition(start, delta, !collapsed);
      const newEnd = collapsed ? newStart : transformPosition(end, delta);
      input.setSelectionRange(
        newStart,
        Math.max(newStart, newEnd),
        direction ?? undefined
      );
    }
  };

  private _input: HTMLInputElement;
  private _text: Y.Text;
  private _isDisposed = false;
}

/* ------------------------------------------------------------------------------------
 * The widget.
 * ---------------------------------------------------------------------------------- */

/**
 * Where an input widget stands:
 * - `editing`: the box takes typing;
 * - `posting`: the answer is on its way to the server;
 * - `submitted`: the server took this answer; the widget waits for the doc to settle;
 * - `conflict`: someone else answered first, or the input was cancelled; the box is
 *   replaced with a note that says so.
 */
export type InputPhase = 'editing' | 'posting' | 'submitted' | 'conflict';

let nextInputId = 0;

/**
 * The box of one pending input.
 */
export class CollabInputWidget extends Widget {
  constructor(options: CollabInputWidget.IOptions) {
    super();
    this._model = options.model;
    this._entry = options.entry;
    this._backend = options.backend;
    this._documentId = options.documentId;
    this._history = options.history ?? InputHistory.session;
    this._shouldFocus = options.shouldFocus ?? (() => false);
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._password = this._entry.password;

    this.addClass(INPUT_CLASS);
    this.node.dataset.inputId = this._entry.input_id;
    this.node.setAttribute('role', 'group');
    this.node.setAttribute('aria-label', this._trans.__('Input requested'));

    this._line = document.createElement('div');
    this._line.className = 'jp-CollabExec-inputLine';
    const id = `jp-CollabExec-input-${++nextInputId}`;
    this._prompt = document.createElement('label');
    this._prompt.className = 'jp-Stdin-prompt jp-CollabExec-inputPrompt';
    this._prompt.htmlFor = id;
    // The prompt comes from the kernel: text, never markup.
    this._prompt.textContent = this._entry.prompt;
    this._input = document.createElement('input');
    this._input.id = id;
    this._input.className = 'jp-Stdin-input jp-CollabExec-inputField';
    this._input.autocomplete = 'off';
    this._input.spellcheck = false;
    this._line.append(this._prompt, this._input);

    this._note = document.createElement('div');
    this._note.className = 'jp-CollabExec-inputNote';
    this._note.setAttribute('role', 'status');
    this._note.setAttribute('aria-live', 'polite');
    this.node.append(this._line, this._note);

    this._input.addEventListener('keydown', this._onKeyDown);
    this._input.addEventListener('input', this._onLocalInput);
    this._model.changed.connect(this._onModelChanged, this);
    this._render();
  }

  get inputId(): string {
    return this._entry.input_id;
  }

  /**
   * The entry as the doc showed it last.
   */
  get entry(): IInputEntry {
    return this._entry;
  }

  get phase(): InputPhase {
    return this._phase;
  }

  /**
   * Whether the box is a password box, whose value stays in this browser.
   */
  get password(): boolean {
    return this._password;
  }

  /**
   * The <input> element.
   */
  get inputNode(): HTMLInputElement {
    return this._input;
  }

  /**
   * The shared Text the box is bound to, or null for a password or a malformed entry.
   */
  get sharedText(): Y.Text | null {
    return this._binding?.text ?? null;
  }

  /**
   * Emitted when the phase changes.
   */
  get phaseChanged(): ISignal<this, InputPhase> {
    return this._phaseChanged;
  }

  /**
   * Post the value shown as the answer.
   */
  async submit(): Promise<void> {
    if (this._phase !== 'editing' || this.isDisposed) {
      return;
    }
    const value = this._input.value;
    const documentId = this._documentId();
    if (documentId === null) {
      Notification.error(
        this._trans.__(
          'Could not answer the input: the notebook is not shared with the server.'
        ),
        { autoClose: 5000 }
      );
      return;
    }
    this._resetHistoryNavigation();
    if (!this._password) {
      this._history.push(value);
    }
    const hadFocus = this._input.ownerDocument.activeElement === this._input;
    this._setPhase('posting');
    let answer: InputAnswer;
    try {
      answer = await this._backend.answerInput(
        documentId,
        this._entry.input_id,
        value
      );
    } catch (error) {
      if (this.isDisposed) {
        return;
      }
      this._setPhase('editing');
      if (hadFocus) {
        this._input.focus();
      }
      const message = error instanceof Error ? error.message : String(error);
      Notification.error(
        this._trans.__('Could not answer the input: %1', message),
        { autoClose: 5000 }
      );
      return;
    }
    if (this.isDisposed) {
      return;
    }
    if (this._password) {
      this._input.value = '';
    }
    if (answer.ok) {
      this._setPhase('submitted');
      return;
    }
    this._conflict = {
      status: answer.status,
      answeredBy:
        answer.answeredBy?.display_name ||
        this._model.input(this._entry.input_id)?.answered_by?.display_name ||
        ''
    };
    this._setPhase('conflict');
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._input.removeEventListener('keydown', this._onKeyDown);
    this._input.removeEventListener('input', this._onLocalInput);
    this._model.changed.disconnect(this._onModelChanged, this);
    this._binding?.dispose();
    this._binding = null;
    // A password typed here leaves nothing behind.
    this._input.value = '';
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._focusDecided) {
      this._focusDecided = true;
      if (this._phase === 'editing' && this._shouldFocus()) {
        this._input.focus();
      }
    }
  }

  private _onModelChanged(): void {
    const entry = this._model.input(this._entry.input_id);
    if (!entry) {
      return;
    }
    this._entry = entry;
    this._render();
  }

  /**
   * Bring the DOM in line with the phase and the entry.
   */
  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    // A password box stays one, even if someone flips the flag in the doc.
    if (this._entry.password && !this._password) {
      this._password = true;
      this._input.value = '';
    }
    this._syncBinding();
    this._input.type = this._password ? 'password' : 'text';
    this._input.placeholder = this._password
      ? ''
      : this._trans.__('↑↓ for history. Search history with Ctrl+↑/Ctrl+↓');
    this._input.disabled = this._phase !== 'editing';
    this.node.dataset.phase = this._phase;
    this.toggleClass('jp-mod-password', this._password);
    this.toggleClass('jp-mod-conflict', this._phase === 'conflict');

    if (this._phase === 'conflict' && this._conflict) {
      this._line.hidden = true;
      this._note.textContent =
        this._conflict.status === 'cancelled'
          ? this._trans.__('Input cancelled')
          : this._conflict.answeredBy
            ? this._trans.__('Answered by %1', this._conflict.answeredBy)
            : this._trans.__('Answered by someone else');
      this._note.hidden = false;
      return;
    }
    this._line.hidden = false;
    if (this._password) {
      this._note.textContent = this._trans.__(
        'A password is awaited. What is typed here is shown to nobody; anyone can answer.'
      );
      this._note.hidden = false;
    } else {
      this._note.textContent = '';
      this._note.hidden = true;
    }
  }

  /**
   * Bind the box to the entry's shared Text; unbind it for a password or a conflict.
   */
  private _syncBinding(): void {
    const text =
      this._password || this._phase === 'conflict'
        ? null
        : this._model.inputValue(this._entry.input_id);
    if (this._binding?.text === text) {
      return;
    }
    this._binding?.dispose();
    this._binding = text ? new SharedInputBinding(this._input, text) : null;
  }

  private _setPhase(phase: InputPhase): void {
    if (this._phase === phase) {
      return;
    }
    this._phase = phase;
    this._render();
    this._phaseChanged.emit(phase);
  }

  private _onLocalInput = (): void => {
    // Typing starts a new history search.
    this._searchPrefix = null;
  };

  private _onKeyDown = (event: KeyboardEvent): void => {
    // The notebook must not act on keys typed here, as for JupyterLab's Stdin.
    event.stopPropagation();
    if (event.isComposing || this._phase !== 'editing') {
      return;
    }
    switch (event.key) {
      case 'Enter':
        event.preventDefault();
        void this.submit();
        return;
      case 'Escape':
        this._resetHistoryNavigation();
        this._input.blur();
        return;
      case 'ArrowUp':
      case 'ArrowDown':
        if (this._password || event.altKey || event.shiftKey) {
          return;
        }
        if (event.ctrlKey || event.metaKey) {
          this._searchHistory(event, event.key === 'ArrowUp');
        } else {
          this._stepHistory(event, event.key === 'ArrowUp');
        }
        return;
    }
  };

  /**
   * ↑ recalls the previous answer, ↓ the next one, and past the newest the text that
   * was there before.
   */
  private _stepHistory(event: KeyboardEvent, older: boolean): void {
    this._searchPrefix = null;
    if (older) {
      const line = this._history.at(this._historyIndex - 1);
      if (line === undefined) {
        return;
      }
      if (this._historyIndex === 0) {
        this._valueCache = this._input.value;
      }
      this._historyIndex--;
      this._setValue(line);
      event.preventDefault();
      return;
    }
    if (this._historyIndex === 0) {
      return;
    }
    if (this._historyIndex === -1) {
      this._historyIndex = 0;
      this._setValue(this._valueCache);
    } else {
      const line = this._history.at(this._historyIndex + 1);
      if (line === undefined) {
        return;
      }
      this._historyIndex++;
      this._setValue(line);
    }
    event.preventDefault();
  }

  /**
   * Ctrl+↑ and Ctrl+↓ recall the previous or next answer that starts with the text
   * typed when the search began.
   */
  private _searchHistory(event: KeyboardEvent, older: boolean): void {
    if (this._searchPrefix === null) {
      this._searchPrefix = this._input.value;
    }
    const found = this._history.search(
      this._searchPrefix,
      this._historyIndex,
      older
    );
    const line = found !== undefined ? this._history.at(found) : undefined;
    if (found === undefined || line === undefined) {
      return;
    }
    if (this._historyIndex === 0) {
      this._valueCache = this._input.value;
    }
    this._historyIndex = found;
    const prefix = this._searchPrefix;
    this._setValue(line);
    this._searchPrefix = prefix;
    event.preventDefault();
  }

  private _resetHistoryNavigation(): void {
    this._historyIndex = 0;
    this._searchPrefix = null;
    this._valueCache = '';
  }

  /**
   * Show a value with the caret at its end, and share it unless it is a password.
   */
  private _setValue(value: string): void {
    this._input.value = value;
    this._input.setSelectionRange(value.length, value.length);
    this._binding?.syncFromInput();
  }

  private _model: CollabExecModel;
  private _entry: IInputEntry;
  private _backend: IInputBackend;
  private _documentId: () => string | null;
  private _history: InputHistory;
  private _shouldFocus: () => boolean;
  private _trans: TranslationBundle;
  private _password: boolean;
  private _line: HTMLElement;
  private _prompt: HTMLLabelElement;
  private _input: HTMLInputElement;
  private _note: HTMLElement;
  private _binding: SharedInputBinding | null = null;
  private _phase: InputPhase = 'editing';
  private _phaseChanged = new Signal<this, InputPhase>(this);
  private _conflict: {
    status: 'answered' | 'cancelled';
    answeredBy: string;
  } | null = null;
  private _focusDecided = false;
  private _historyIndex = 0;
  private _searchPrefix: string | null = null;
  private _valueCache = '';
}

export namespace CollabInputWidget {
  export interface IOptions {
    model: CollabExecModel;
    /**
     * The entry as the doc shows it when the widget is created.
     */
    entry: IInputEntry;
    backend: IInputBackend;
    /**
     * The room id of the notebook, or null when it is not collaborative.
     */
    documentId: () => string | null;
    /**
     * The answers given in this browser; the session's history by default.
     */
    history?: InputHistory;
    /**
     * Asked once, when the widget is first attached: whether to focus the box.
     */
    shouldFocus?: () => boolean;
    translator?: ITranslator;
  }
}

/* ------------------------------------------------------------------------------------
 * The tracker: one per notebook view.
 * ---------------------------------------------------------------------------------- */

/**
 * Keeps an input widget in every code cell whose kernel waits for input, in one
 * notebook view, following cells that are added, moved, removed or rendered late
 * (windowed notebooks), and the doc.
 */
export class CellInputTracker implements IDisposable {
  constructor(options: CellInputTracker.IOptions) {
    this._notebook = options.notebook;
    this._backend = options.backend;
    this._translator = options.translator;
    this._history = options.history ?? InputHistory.session;
    this._username = options.username ?? (() => null);
    this._isCurrent = options.isCurrent ?? (() => false);
    this._notebook.modelChanged.connect(this._onModelChanged, this);
    this._notebook.disposed.connect(this.dispose, this);
    this._onModelChanged();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The widget of an input, if this view shows one.
   */
  widgetFor(inputId: string): CollabInputWidget | null {
    return this._widgets.get(inputId)?.widget ?? null;
  }

  /**
   * Every input widget of this view.
   */
  get widgets(): CollabInputWidget[] {
    return [...this._widgets.values()].map(item => item.widget);
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._setModel(null);
    this._notebook.modelChanged.disconnect(this._onModelChanged, this);
    this._notebook.disposed.disconnect(this.dispose, this);
    for (const inputId of [...this._widgets.keys()]) {
      this._drop(inputId);
    }
    Signal.clearData(this);
  }

  /**
   * Bring the widgets in line with the cells and the doc.
   */
  update(): void {
    if (this._isDisposed) {
      return;
    }
    const collab = this._collab;
    const cells = new Map<string, Cell>();
    for (const cell of this._notebook.widgets) {
      if (!cell.isDisposed && cell.model?.type === 'code') {
        cells.set(cell.model.sharedModel.getId(), cell);
      }
    }
    const entries = collab ? collab.inputs() : [];
    const byId = new Map(entries.map(entry => [entry.input_id, entry]));

    for (const [inputId, item] of [...this._widgets]) {
      const entry = byId.get(inputId);
      if (
        !collab ||
        item.widget.isDisposed ||
        !entry ||
        cells.get(entry.cell_id) !== item.cell ||
        !this._keep(collab, item.widget, entry)
      ) {
        this._drop(inputId);
      }
    }
    if (!collab) {
      return;
    }
    for (const entry of entries) {
      if (entry.status !== 'pending' || this._widgets.has(entry.input_id)) {
        continue;
      }
      const cell = cells.get(entry.cell_id);
      if (cell) {
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
      documentId: () => {
        const model = this._notebook.model;
        return model ? notebookDocumentId(model) : null;
      },
      history: this._history,
      shouldFocus: () => this._shouldFocus(collab, entry),
      translator: this._translator
    });
    widget.phaseChanged.connect(this._onPhaseChanged, this);
    this._widgets.set(entry.input_id, { cell, widget });
    this._place(cell, widget);
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

  /**
   * Put a widget right below the cell's outputs, after the inputs already there, once
   * the cell is rendered.
   */
  private _place(cell: Cell, widget: CollabInputWidget): void {
    if (cell.isPlaceholder()) {
      // Windowed notebooks build a cell's children only when it is first shown.
      void cell.ready.then(() => {
        if (!cell.isDisposed && !widget.isDisposed && !widget.parent) {
          this._place(cell, widget);
        }
      });
      return;
    }
    const layout = cell.layout as PanelLayout;
    const widgets = layout.widgets;
    let index = widgets.findIndex(child =>
      child.hasClass('jp-Cell-outputWrapper')
    );
    if (index < 0) {
      index = widgets.length - 1;
    }
    while (
      index + 1 < widgets.length &&
      widgets[index + 1].hasClass(INPUT_CLASS)
    ) {
      index++;
    }
    layout.insertWidget(index + 1, widget);
  }

  private _drop(inputId: string): void {
    const item = this._widgets.get(inputId);
    if (!item) {
      return;
    }
    this._widgets.delete(inputId);
    item.widget.phaseChanged.disconnect(this._onPhaseChanged, this);
    item.widget.dispose();
  }

  private _onPhaseChanged(): void {
    this.update();
  }

  private _onModelChanged(): void {
    this._setModel(this._notebook.model);
    this.update();
  }

  private _setModel(notebook: INotebookModel | null): void {
    if (this._notebookModel && !this._notebookModel.isDisposed) {
      this._notebookModel.cells.changed.disconnect(this.update, this);
    }
    if (this._collab) {
      this._collab.changed.disconnect(this.update, this);
    }
    this._notebookModel = notebook;
    const ydoc = notebook ? notebookYDoc(notebook) : null;
    this._collab = ydoc ? CollabExecModel.forDoc(ydoc) : null;
    if (notebook) {
      // The notebook widget connected to the same signal first, so its cell widgets are
      // up to date when this runs.
      notebook.cells.changed.connect(this.update, this);
    }
    if (this._collab) {
      this._collab.changed.connect(this.update, this);
    }
  }

  private _notebook: StaticNotebook;
  private _backend: IInputBackend;
  private _translator: ITranslator | undefined;
  private _history: InputHistory;
  private _username: () => string | null;
  private _isCurrent: () => boolean;
  private _notebookModel: INotebookModel | null = null;
  private _collab: CollabExecModel | null = null;
  private _widgets = new Map<
    string,
    { cell: Cell; widget: CollabInputWidget }
  >();
  private _isDisposed = false;
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
