/**
 * The status view: a badge on each code cell with the state of its latest request.
 *
 * Everything shown is read from the `collab_exec` map of the notebook's Y.Doc through
 * `CollabExecModel`, never from this tab's own execution state, so every collaborator
 * sees the same thing and it survives reloads.
 */
import type { Cell } from '@jupyterlab/cells';
import type { INotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import {
  type ITranslator,
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import { type PanelLayout, Widget } from '@lumino/widgets';
import * as Y from 'yjs';

import { notebookYDoc } from './executor';
import { CollabExecModel } from './model';
import {
  type IRequestEntry,
  REQUESTS,
  ROOT,
  type RequestStatus
} from './schema';

/**
 * The class of every cell badge.
 */
export const BADGE_CLASS = 'jp-CollabExec-badge';

/**
 * How often the elapsed time of running requests is refreshed, in ms.
 */
export const TICK_INTERVAL = 1000;

/* ------------------------------------------------------------------------------------
 * Pure logic: no DOM, no doc.
 * ---------------------------------------------------------------------------------- */

/**
 * Where a queued request stands in its kernel's queue.
 */
export interface IQueuePosition {
  /**
   * 1-based: 1 runs next.
   */
  position: number;
  /**
   * How many requests of that kernel are queued.
   */
  total: number;
}

/**
 * Requests in the order the server runs them: by `submitted_at`, and for equal times
 * (the cells of one batch) by the order in which they were inserted in the doc.
 *
 * @param rank - the insertion rank of a request id; see `insertionRanks`.
 */
export function queueOrder(
  entries: ReadonlyArray<IRequestEntry>,
  rank: (requestId: string) => number = () => 0
): IRequestEntry[] {
  return [...entries].sort(
    (a, b) =>
      a.submitted_at - b.submitted_at ||
      rank(a.request_id) - rank(b.request_id) ||
      a.request_id.localeCompare(b.request_id)
  );
}

/**
 * The queue position of every queued request, counted per kernel.
 *
 * @param ordered - requests in queue order (see `queueOrder`).
 */
export function queuePositions(
  ordered: ReadonlyArray<IRequestEntry>
): Map<string, IQueuePosition> {
  const perKernel = new Map<string, string[]>();
  for (const entry of ordered) {
    if (entry.status !== 'queued') {
      continue;
    }
    const queue = perKernel.get(entry.kernel_id);
    if (queue) {
      queue.push(entry.request_id);
    } else {
      perKernel.set(entry.kernel_id, [entry.request_id]);
    }
  }
  const positions = new Map<string, IQueuePosition>();
  for (const queue of perKernel.values()) {
    queue.forEach((requestId, index) => {
      positions.set(requestId, { position: index + 1, total: queue.length });
    });
  }
  return positions;
}

/**
 * The latest request of every cell.
 *
 * @param ordered - requests in queue order (see `queueOrder`).
 */
export function latestPerCell(
  ordered: ReadonlyArray<IRequestEntry>
): Map<string, IRequestEntry> {
  const latest = new Map<string, IRequestEntry>();
  for (const entry of ordered) {
    latest.set(entry.cell_id, entry);
  }
  return latest;
}

/**
 * How many requests are queued, for one kernel or (with `null`) in all.
 */
export function queuedCount(
  entries: ReadonlyArray<IRequestEntry>,
  kernelId: string | null = null
): number {
  return entries.filter(
    entry =>
      entry.status === 'queued' &&
      (kernelId === null || entry.kernel_id === kernelId)
  ).length;
}

/**
 * A duration, compact: `0s`, `42s`, `3m 05s`, `2h 07m`. Negative durations (clock skew
 * between the server and this browser) count as zero.
 */
export function formatDuration(ms: number, trans: TranslationBundle): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) {
    return trans.__('%1s', seconds);
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return trans.__('%1m %2s', minutes, pad(seconds % 60));
  }
  return trans.__('%1h %2m', Math.floor(minutes / 60), pad(minutes % 60));
}

function pad(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

/**
 * Formats a time (ms since epoch) relative to `now` (to leave out the date on the same
 * day); `precise` adds seconds.
 */
export type TimeFormatter = (
  time: number,
  now: number,
  precise: boolean
) => string;

/**
 * The default time format: the user's locale, with the date only for another day.
 */
export const formatTime: TimeFormatter = (time, now, precise) => {
  const date = new Date(time);
  const options: Intl.DateTimeFormatOptions = {
    hour: '2-digit',
    minute: '2-digit'
  };
  if (precise) {
    options.second = '2-digit';
  }
  if (date.toDateString() !== new Date(now).toDateString()) {
    options.year = 'numeric';
    options.month = 'short';
    options.day = 'numeric';
  }
  return date.toLocaleString(undefined, options);
};

/**
 * What a cell badge shows.
 */
export interface IBadgeState {
  status: RequestStatus;
  /**
   * The visible text, without the elapsed time.
   */
  label: string;
  /**
   * Time elapsed since the request started, shown after the label and refreshed by a
   * timer; only while the request runs.
   */
  elapsed: string | null;
  /**
   * The tooltip, with the full details.
   */
  title: string;
}

export interface IBadgeOptions {
  /**
   * The current time, in ms since epoch.
   */
  now: number;
  /**
   * The queue position of the request, when it is queued.
   */
  queue?: IQueuePosition | null;
  trans?: TranslationBundle;
  formatTime?: TimeFormatter;
}

/**
 * What the badge of a cell shows for its latest request.
 */
export function badgeState(
  entry: IRequestEntry,
  options: IBadgeOptions
): IBadgeState {
  const trans = options.trans ?? nullTranslator.load('jupyterlab-collab-exec');
  const format = options.formatTime ?? formatTime;
  const now = options.now;
  const who = entry.submitted_by.display_name || trans.__('an unknown user');
  const submitted = format(entry.submitted_at, now, true);
  const started =
    entry.started_at !== undefined ? format(entry.started_at, now, true) : null;
  const count =
    entry.execution_count !== undefined
      ? trans.__('Execution count: %1.', entry.execution_count)
      : '';
  const join = (...parts: string[]) => parts.filter(part => !!part).join(' ');

  switch (entry.status) {
    case 'queued': {
      const queue = options.queue;
      return {
        status: entry.status,
        label: queue
          ? trans.__('Queued (%1 of %2)', queue.position, queue.total)
          : trans.__('Queued'),
        elapsed: null,
        title: join(
          trans.__('Queued by %1 at %2.', who, submitted),
          queue
            ? trans.__(
                "Position %1 of %2 in the kernel's queue.",
                queue.position,
                queue.total
              )
            : ''
        )
      };
    }
    case 'running': {
      const since = entry.started_at ?? entry.submitted_at;
      const elapsed = formatDuration(now - since, trans);
      return {
        status: entry.status,
        label: trans.__('Running · %1', who),
        elapsed,
        title: trans.__(
          'Running since %1 (%2), run by %3.',
          format(since, now, true),
          elapsed,
          who
        )
      };
    }
    case 'awaiting_input':
      return {
        status: entry.status,
        label: trans.__('Waiting for input · %1', who),
        elapsed: null,
        title: join(
          trans.__('Waiting for input; run by %1.', who),
          started ? trans.__('Started at %1.', started) : ''
        )
      };
    case 'ok':
    case 'error': {
      const finishedAt =
        entry.finished_at ?? entry.started_at ?? entry.submitted_at;
      const finished = format(finishedAt, now, false);
      const took =
        entry.finished_at !== undefined && entry.started_at !== undefined
          ? trans.__(
              'It took %1.',
              formatDuration(entry.finished_at - entry.started_at, trans)
            )
          : '';
      const ok = entry.status === 'ok';
      return {
        status: entry.status,
        label: ok
          ? trans.__('Run by %1 · %2', who, finished)
          : trans.__('Failed · Run by %1 · %2', who, finished),
        elapsed: null,
        title: join(
          ok
            ? trans.__(
                'Run by %1, finished at %2.',
                who,
                format(finishedAt, now, true)
              )
            : trans.__(
                'Run by %1, failed at %2.',
                who,
                format(finishedAt, now, true)
              ),
          took,
          count
        )
      };
    }
    case 'cancelled':
      return {
        status: entry.status,
        label: trans.__('Cancelled'),
        elapsed: null,
        title: trans.__(
          'Cancelled before it ran. It was queued by %1 at %2.',
          who,
          submitted
        )
      };
    case 'interrupted':
      return {
        status: entry.status,
        label: trans.__('Interrupted'),
        elapsed: null,
        title: join(
          trans.__('Interrupted; run by %1.', who),
          started ? trans.__('Started at %1.', started) : ''
        )
      };
  }
}

/* ------------------------------------------------------------------------------------
 * Reading the doc.
 * ---------------------------------------------------------------------------------- */

/**
 * The insertion rank of each request entry, for `queueOrder`.
 *
 * The cells of one batch share a `submitted_at` and have random ids; the server inserts
 * them in the order it runs them, in one transaction. Yjs integrates the items of one
 * client in the order they were created, on every client, so the iteration order of the
 * requests map is that order.
 */
export function insertionRanks(ydoc: Y.Doc): Map<string, number> {
  const ranks = new Map<string, number>();
  const requests = ydoc.getMap<unknown>(ROOT).get(REQUESTS);
  if (requests instanceof Y.Map) {
    let index = 0;
    requests.forEach((_value: unknown, requestId: string) => {
      ranks.set(requestId, index++);
    });
  }
  return ranks;
}

/**
 * Every request of a model, in queue order.
 */
export function orderedRequests(model: CollabExecModel): IRequestEntry[] {
  const ranks = insertionRanks(model.ydoc);
  return queueOrder(
    model.requests(),
    requestId => ranks.get(requestId) ?? Number.MAX_SAFE_INTEGER
  );
}

/* ------------------------------------------------------------------------------------
 * Widgets.
 * ---------------------------------------------------------------------------------- */

/**
 * Options of the status view shared by every notebook, such as the user's settings.
 */
export class StatusConfig {
  constructor(options: { showBadges?: boolean } = {}) {
    this._showBadges = options.showBadges ?? true;
  }

  /**
   * Whether cells show their badge (the `showStatusBadges` setting).
   */
  get showBadges(): boolean {
    return this._showBadges;
  }
  set showBadges(value: boolean) {
    if (value !== this._showBadges) {
      this._showBadges = value;
      this._changed.emit();
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  private _showBadges: boolean;
  private _changed = new Signal<this, void>(this);
}

/**
 * The badge of one cell.
 */
export class CellStatusBadge extends Widget {
  constructor() {
    super();
    this.addClass(BADGE_CLASS);
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('aria-live', 'polite');
    this._label = document.createElement('span');
    this._label.className = 'jp-CollabExec-badgeLabel';
    // The elapsed time changes every second: a timer, not announced.
    this._elapsed = document.createElement('span');
    this._elapsed.className = 'jp-CollabExec-badgeElapsed';
    this._elapsed.setAttribute('role', 'timer');
    this._elapsed.setAttribute('aria-live', 'off');
    this.node.append(this._label, this._elapsed);
    this.hide();
  }

  /**
   * What the badge shows, or null when it is hidden.
   */
  get state(): IBadgeState | null {
    return this._state;
  }

  render(state: IBadgeState | null): void {
    const previous = this._state;
    this._state = state;
    if (previous && previous.status !== state?.status) {
      this.removeClass(`jp-mod-${statusClass(previous.status)}`);
    }
    if (!state) {
      delete this.node.dataset.status;
      this._label.textContent = '';
      this._elapsed.textContent = '';
      this.node.removeAttribute('title');
      this.hide();
      return;
    }
    this.addClass(`jp-mod-${statusClass(state.status)}`);
    this.node.dataset.status = state.status;
    if (this._label.textContent !== state.label) {
      this._label.textContent = state.label;
    }
    this._elapsed.textContent = state.elapsed ? ` · ${state.elapsed}` : '';
    this.node.title = state.title;
    this.show();
  }

  private _state: IBadgeState | null = null;
  private _label: HTMLElement;
  private _elapsed: HTMLElement;
}

/**
 * The CSS modifier of a status: `jp-mod-awaitingInput` for `awaiting_input`.
 */
export function statusClass(status: RequestStatus): string {
  return status.replace(/_([a-z])/g, (_match, letter: string) =>
    letter.toUpperCase()
  );
}

/**
 * Keeps a badge on every code cell of one notebook widget, following cells that are
 * added, moved, removed or rendered late (windowed notebooks), and the doc.
 */
export class CellStatusTracker implements IDisposable {
  constructor(options: CellStatusTracker.IOptions) {
    this._notebook = options.notebook;
    this._config = options.config;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._now = options.now ?? Date.now;
    this._formatTime = options.formatTime ?? formatTime;
    this._notebook.modelChanged.connect(this._onModelChanged, this);
    this._notebook.disposed.connect(this.dispose, this);
    this._config.changed.connect(this._render, this);
    this._onModelChanged();
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * The badge of a cell widget, if it has one.
   */
  badgeFor(cell: Cell): CellStatusBadge | null {
    return this._badges.get(cell) ?? null;
  }

  /**
   * Whether the elapsed-time timer runs.
   */
  get ticking(): boolean {
    return this._timer !== null;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._stopTimer();
    this._setModel(null);
    this._notebook.modelChanged.disconnect(this._onModelChanged, this);
    this._notebook.disposed.disconnect(this.dispose, this);
    this._config.changed.disconnect(this._render, this);
    for (const [cell, badge] of this._badges) {
      cell.disposed.disconnect(this._onCellDisposed, this);
      badge.dispose();
    }
    this._badges.clear();
    Signal.clearData(this);
  }

  /**
   * Bring the badges in line with the cells and the doc.
   */
  update(): void {
    if (this._isDisposed) {
      return;
    }
    this._syncCells();
    this._render();
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
      this._collab.changed.disconnect(this._render, this);
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
      this._collab.changed.connect(this._render, this);
    }
  }

  /**
   * Give every code cell widget a badge, and drop the badges of cells that are gone.
   */
  private _syncCells(): void {
    const current = new Set<Cell>();
    for (const cell of this._notebook.widgets) {
      if (cell.isDisposed || cell.model?.type !== 'code') {
        continue;
      }
      current.add(cell);
      if (!this._badges.has(cell)) {
        const badge = new CellStatusBadge();
        this._badges.set(cell, badge);
        cell.disposed.connect(this._onCellDisposed, this);
        this._place(cell, badge);
      }
    }
    for (const [cell, badge] of [...this._badges]) {
      if (!current.has(cell)) {
        this._drop(cell, badge);
      }
    }
  }

  /**
   * Put a badge between the cell's input and its outputs, once the cell is rendered.
   */
  private _place(cell: Cell, badge: CellStatusBadge): void {
    if (cell.isPlaceholder()) {
      // Windowed notebooks build a cell's children only when it is first shown.
      void cell.ready.then(() => {
        if (!cell.isDisposed && !badge.isDisposed) {
          this._place(cell, badge);
        }
      });
      return;
    }
    const layout = cell.layout as PanelLayout;
    const index = layout.widgets.findIndex(widget =>
      widget.hasClass('jp-Cell-inputWrapper')
    );
    layout.insertWidget(
      index >= 0 ? index + 1 : Math.min(1, layout.widgets.length),
      badge
    );
  }

  private _onCellDisposed(cell: Cell): void {
    const badge = this._badges.get(cell);
    if (badge) {
      this._drop(cell, badge);
    }
  }

  private _drop(cell: Cell, badge: CellStatusBadge): void {
    this._badges.delete(cell);
    cell.disposed.disconnect(this._onCellDisposed, this);
    badge.dispose();
  }

  /**
   * Show the latest request of every cell.
   */
  private _render(): void {
    if (this._isDisposed) {
      return;
    }
    const show = this._config.showBadges && this._collab !== null;
    const ordered =
      show && this._collab ? orderedRequests(this._collab) : undefined;
    const latest = ordered ? latestPerCell(ordered) : new Map();
    const positions = ordered ? queuePositions(ordered) : new Map();
    const now = this._now();
    let ticking = false;
    for (const [cell, badge] of this._badges) {
      const cellId = cell.model?.sharedModel.getId();
      const entry: IRequestEntry | undefined =
        cellId !== undefined ? latest.get(cellId) : undefined;
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

  private _startTimer(): void {
    if (this._timer === null) {
      this._timer = setInterval(() => this._render(), TICK_INTERVAL);
    }
  }

  private _stopTimer(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private _notebook: StaticNotebook;
  private _config: StatusConfig;
  private _trans: TranslationBundle;
  private _now: () => number;
  private _formatTime: TimeFormatter;
  private _notebookModel: INotebookModel | null = null;
  private _collab: CollabExecModel | null = null;
  private _badges = new Map<Cell, CellStatusBadge>();
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _isDisposed = false;
}

export namespace CellStatusTracker {
  export interface IOptions {
    /**
     * The notebook widget whose cells get badges.
     */
    notebook: StaticNotebook;
    config: StatusConfig;
    translator?: ITranslator;
    /**
     * The clock; `Date.now` by default.
     */
    now?: () => number;
    formatTime?: TimeFormatter;
  }
}
