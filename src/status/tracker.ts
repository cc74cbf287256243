/**
 * The status view of one notebook widget: a badge on every code cell with the state of
 * its latest request.
 *
 * Everything shown is read from the `collab_exec` map of the notebook's Y.Doc through
 * `CollabExecModel`, never from this tab's own execution state, so every collaborator
 * sees the same thing and it survives reloads.
 */
import type { Cell } from '@jupyterlab/cells';
import type { StaticNotebook } from '@jupyterlab/notebook';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import { CellViewTracker } from '../doc/cellViews';
import { latestPerCell, queuePositions } from '../doc/queue';
import { CellStatusBadge } from './badge';
import { badgeState, formatTime, type TimeFormatter } from './text';
import type { ICollabExecSettings } from '../server/tokens';

/**
 * How often the elapsed time of running requests is refreshed, in ms.
 */
export const TICK_INTERVAL = 1000;

/**
 * Keeps a badge on every code cell of one notebook widget.
 */
export class CellStatusTracker extends CellViewTracker<Cell, CellStatusBadge> {
  constructor(options: CellStatusTracker.IOptions) {
    super(options.notebook);
    this._settings = options.settings;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._now = options.now ?? Date.now;
    this._formatTime = options.formatTime ?? formatTime;
    this._settings.changed.connect(this._render, this);
    this.update();
  }

  /**
   * The badge of a cell widget, if it has one.
   */
  badgeFor(cell: Cell): CellStatusBadge | null {
    return this.viewOf(cell);
  }

  /**
   * Emitted with a cell's id when someone asks for its run history from its badge.
   */
  get historyRequested(): ISignal<this, string> {
    return this._historyRequested;
  }

  /**
   * Whether the badges offer the cells' run history: only when the server keeps one.
   */
  setHistoryAvailable(available: boolean): void {
    if (available !== this._historyAvailable) {
      this._historyAvailable = available;
      this._render();
    }
  }

  /**
   * Whether the elapsed-time timer runs.
   */
  get ticking(): boolean {
    return this._timer !== null;
  }

  protected onDispose(): void {
    this._stopTimer();
    this._settings.changed.disconnect(this._render, this);
    super.onDispose();
  }

  update(): void {
    if (this.isDisposed) {
      return;
    }
    const cells = new Set(this.codeCells().values());
    for (const cell of cells) {
      if (!this.viewOf(cell)) {
        const badge = new CellStatusBadge();
        badge.historyRequested.connect(this._onHistoryRequested, this);
        this.addView(cell, cell, badge, afterInput);
      }
    }
    for (const [cell] of this.views()) {
      if (!cells.has(cell)) {
        this.dropView(cell);
      }
    }
    this._render();
  }

  protected onDocChanged(): void {
    this._render();
  }

  /**
   * Show the latest request of every cell.
   */
  private _render(): void {
    if (this.isDisposed) {
      return;
    }
    const collab = this._settings.showStatusBadges ? this.collab : null;
    const ordered = collab ? collab.requests() : [];
    const latest = latestPerCell(ordered);
    const positions = queuePositions(ordered);
    const now = this._now();
    let ticking = false;
    const history = this._historyAvailable
      ? this._trans.__('Run history of this cell')
      : null;
    for (const [cell, { widget: badge }] of this.views()) {
      badge.setHistory(history);
      const entry = latest.get(cell.model.sharedModel.getId());
      if (!entry) {
        badge.render(null);
        continue;
      }
      const state = badgeState(entry, {
        now,
        queue: positions.get(entry.request_id) ?? null,
        trans: this._trans,
        formatTime: this._formatTime
      });
      badge.render(state);
      ticking = ticking || state.elapsed !== null;
    }
    if (ticking) {
      this._startTimer();
    } else {
      this._stopTimer();
    }
  }

  private _onHistoryRequested(badge: CellStatusBadge): void {
    for (const [cell, { widget }] of this.views()) {
      if (widget === badge && !cell.isDisposed) {
        this._historyRequested.emit(cell.model.sharedModel.getId());
        return;
      }
    }
  }

  private _startTimer(): void {
    this._timer ??= setInterval(() => this._render(), TICK_INTERVAL);
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _settings: ICollabExecSettings;
  private _trans: TranslationBundle;
  private _now: () => number;
  private _formatTime: TimeFormatter;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _historyAvailable = false;
  private _historyRequested = new Signal<this, string>(this);
}

/**
 * Between the cell's input and its outputs.
 */
function afterInput(children: ReadonlyArray<Widget>): number {
  const index = children.findIndex(child =>
    child.hasClass('jp-Cell-inputWrapper')
  );
  return index >= 0 ? index + 1 : Math.min(1, children.length);
}

export namespace CellStatusTracker {
  export interface IOptions {
    /**
     * The notebook widget whose cells get badges.
     */
    notebook: StaticNotebook;
    /**
     * The user's settings: badges show only while `showStatusBadges` is on.
     */
    settings: ICollabExecSettings;
    translator?: ITranslator;
    /**
     * The clock; `Date.now` by default.
     */
    now?: () => number;
    formatTime?: TimeFormatter;
  }
}
