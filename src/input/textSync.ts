/**
 * Shared text sync: binds an <input> to a shared Y.Text, such as the `value` Text of an
 * input entry, so that everyone sees what is typed, concurrent typing merges, and a
 * reload restores it.
 */
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';
import type * as Y from 'yjs';

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
    this._listening = new DisposableDelegate(() => {
      text.unobserve(this._onTextChange);
      input.removeEventListener('input', this._onInput);
    });
  }

  get text(): Y.Text {
    return this._text;
  }

  get isDisposed(): boolean {
    return this._listening.isDisposed;
  }

  /**
   * Write what the input shows into the Text, as one minimal edit in one transaction.
   * Call it after changing the input's value from code.
   */
  syncFromInput(): void {
    if (this.isDisposed) {
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
    this._listening.dispose();
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
  private _listening: DisposableDelegate;
}
