/**
 * Input history: the answers given in this browser, and the history keys of an input
 * box (↑/↓ to step, Ctrl+↑/Ctrl+↓ to search by prefix), as JupyterLab's Stdin has them.
 */

/**
 * How many answers the history keeps, as JupyterLab's Stdin does.
 */
export const HISTORY_LENGTH = 1000;

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

/**
 * Where one box stands in the history while its user presses the history keys. Each
 * method returns the value to show, or null when nothing changes.
 */
export class HistoryNavigator {
  constructor(history: InputHistory) {
    this._history = history;
  }

  /**
   * ↑ recalls the previous answer, ↓ the next one, and past the newest the text that was
   * there before.
   */
  step(current: string, older: boolean): string | null {
    this._searchPrefix = null;
    if (older) {
      return this._moveTo(this._index - 1, current);
    }
    if (this._index === -1) {
      this._index = 0;
      return this._valueCache;
    }
    return this._index === 0 ? null : this._moveTo(this._index + 1, current);
  }

  /**
   * Ctrl+↑ and Ctrl+↓ recall the previous or next answer that starts with the text typed
   * when the search began.
   */
  search(current: string, older: boolean): string | null {
    this._searchPrefix ??= current;
    const found = this._history.search(this._searchPrefix, this._index, older);
    return found === undefined ? null : this._moveTo(found, current);
  }

  /**
   * Typing starts a new search.
   */
  typed(): void {
    this._searchPrefix = null;
  }

  /**
   * Back to the text being typed, as after an answer.
   */
  reset(): void {
    this._index = 0;
    this._searchPrefix = null;
    this._valueCache = '';
  }

  private _moveTo(index: number, current: string): string | null {
    const line = this._history.at(index);
    if (line === undefined) {
      return null;
    }
    if (this._index === 0) {
      this._valueCache = current;
    }
    this._index = index;
    return line;
  }

  private _history: InputHistory;
  /**
   * Negative as in `InputHistory`; 0 while the box shows what was typed.
   */
  private _index = 0;
  private _searchPrefix: string | null = null;
  private _valueCache = '';
}
