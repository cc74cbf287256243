/**
 * The collaborative input widget: the box of one pending entry of `collab_exec.inputs`.
 *
 * - A plain input is bound to the entry's shared `value` Y.Text (see `textSync.ts`).
 * - A password input keeps its value in this browser; everyone sees that a password is
 *   awaited, and anyone can answer.
 * - Enter posts the answer; the server decides which answer reaches the kernel, and the
 *   doc tells every view when the input is settled.
 */
import { Notification } from '@jupyterlab/apputils';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { Message } from '@lumino/messaging';
import { type ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import type * as Y from 'yjs';

import type { IInputBackend, InputAnswer } from '../server/backends';
import { createElement, LIVE_STATUS, setAttributes } from '../common/dom';
import { HistoryNavigator, InputHistory } from './history';
import type { CollabExecModel } from '../doc/model';
import type { IInputEntry } from '../doc/schema';
import { SharedInputBinding } from './textSync';

/**
 * The class of every input widget.
 */
export const INPUT_CLASS = 'jp-CollabExec-input';

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
    this._navigator = new HistoryNavigator(this._history);
    this._shouldFocus = options.shouldFocus ?? (() => false);
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._password = this._entry.password;

    this.addClass(INPUT_CLASS);
    this.node.dataset.inputId = this._entry.input_id;
    setAttributes(this.node, {
      role: 'group',
      'aria-label': this._trans.__('Input requested')
    });

    this._line = createElement('div', 'jp-CollabExec-inputLine');
    const id = `jp-CollabExec-input-${++nextInputId}`;
    this._prompt = createElement(
      'label',
      'jp-Stdin-prompt jp-CollabExec-inputPrompt',
      { for: id }
    );
    // The prompt comes from the kernel: text, never markup.
    this._prompt.textContent = this._entry.prompt;
    this._input = createElement(
      'input',
      'jp-Stdin-input jp-CollabExec-inputField',
      { id, autocomplete: 'off', spellcheck: 'false' }
    );
    this._line.append(this._prompt, this._input);
    this._note = createElement('div', 'jp-CollabExec-inputNote', LIVE_STATUS);
    this.node.append(this._line, this._note);

    this._input.addEventListener('keydown', this._onKeyDown);
    this._input.addEventListener('input', this._onLocalInput);
    this._model.changed.connect(this._onModelChanged, this);
    this._render();
  }

  get inputId(): string {
    return this._entry.input_id;
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
      this._notify(
        this._trans.__(
          'Could not answer the input: the notebook is not shared with the server.'
        )
      );
      return;
    }
    this._navigator.reset();
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
      this._notify(this._trans.__('Could not answer the input: %1', message));
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

  private _notify(error: string): void {
    Notification.error(error, { autoClose: 5000 });
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
    this._navigator.typed();
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
        this._navigator.reset();
        this._input.blur();
        return;
      case 'ArrowUp':
      case 'ArrowDown': {
        if (this._password || event.altKey || event.shiftKey) {
          return;
        }
        const older = event.key === 'ArrowUp';
        const current = this._input.value;
        const value =
          event.ctrlKey || event.metaKey
            ? this._navigator.search(current, older)
            : this._navigator.step(current, older);
        if (value !== null) {
          this._setValue(value);
          event.preventDefault();
        }
        return;
      }
    }
  };

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
  private _navigator: HistoryNavigator;
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
