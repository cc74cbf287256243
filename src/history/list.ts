/**
 * `RunList`: the runs of a notebook's history that a view shows, newest first, loaded a
 * page at a time from the server and refreshed when the doc says that runs were recorded.
 */
import { type ISignal, Signal } from '@lumino/signaling';

import { Disposable } from '../common/disposable';
import type { CollabExecModel } from '../doc/model';
import type { IHistoryBackend, IHistoryQuery } from '../server/backends';
import type { IRunSummary } from '../server/runs';

/**
 * The runs of one page.
 */
export const PAGE_SIZE = 50;

/**
 * The runs of a notebook, of one cell or one person when asked.
 */
export class RunList extends Disposable {
  constructor(options: RunList.IOptions) {
    super();
    this._backend = options.backend;
    this._query = { ...options.query };
    this._pageSize = options.pageSize ?? PAGE_SIZE;
    this._collab = options.collab ?? null;
    if (this._collab) {
      this._recorded = this._collab.recordedRuns(this._query.cellId);
      this._collab.changed.connect(this._onDocChanged, this);
    }
  }

  /**
   * Emitted when the runs, the loading state or the error change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The runs loaded so far, newest first.
   */
  get runs(): ReadonlyArray<IRunSummary> {
    return this._runs;
  }

  /**
   * Whether older runs remain to load.
   */
  get hasMore(): boolean {
    return this._next !== null;
  }

  get loading(): boolean {
    return this._pending > 0;
  }

  /**
   * Why the last load failed, or null after a success.
   */
  get error(): string | null {
    return this._error;
  }

  /**
   * Whose runs are listed: a username, or null for everyone's.
   */
  get submittedBy(): string | null {
    return this._query.submittedBy ?? null;
  }

  /**
   * List one person's runs only, or everyone's with null; loads the newest page again.
   */
  setSubmittedBy(username: string | null): Promise<void> {
    if ((this._query.submittedBy ?? null) === username) {
      return Promise.resolve();
    }
    if (username === null) {
      delete this._query.submittedBy;
    } else {
      this._query.submittedBy = username;
    }
    this._runs = [];
    this._next = null;
    return this.load();
  }

  /**
   * Load the newest page, in place of what was loaded.
   */
  async load(): Promise<void> {
    const generation = ++this._generation;
    const page = await this._fetch({ ...this._query, limit: this._pageSize });
    if (page && generation === this._generation) {
      this._runs = page.runs;
      this._next = page.next;
      this._changed.emit();
    }
  }

  /**
   * Load the page after the runs loaded so far.
   */
  async loadMore(): Promise<void> {
    if (this._next === null) {
      return;
    }
    const generation = this._generation;
    const before = this._next;
    const page = await this._fetch({
      ...this._query,
      before,
      limit: this._pageSize
    });
    if (page && generation === this._generation && this._next === before) {
      const known = new Set(this._runs.map(run => run.run_id));
      this._runs = [
        ...this._runs,
        ...page.runs.filter(run => !known.has(run.run_id))
      ];
      this._next = page.next;
      this._changed.emit();
    }
  }

  /**
   * Add the runs recorded since the last load at the top, keeping the older pages loaded;
   * when more than a page was recorded meanwhile, start again from the newest page.
   */
  async refresh(): Promise<void> {
    if (!this._runs.length) {
      return this.load();
    }
    const generation = this._generation;
    const page = await this._fetch({ ...this._query, limit: this._pageSize });
    if (!page || generation !== this._generation) {
      return;
    }
    const known = new Set(this._runs.map(run => run.run_id));
    const firstKnown = page.runs.findIndex(run => known.has(run.run_id));
    if (firstKnown < 0) {
      this._runs = page.runs;
      this._next = page.next;
    } else {
      this._runs = [...page.runs.slice(0, firstKnown), ...this._runs];
    }
    this._changed.emit();
  }

  protected onDispose(): void {
    this._collab?.changed.disconnect(this._onDocChanged, this);
  }

  private async _fetch(
    query: Omit<IHistoryQuery, 'documentId'>
  ): Promise<{ runs: IRunSummary[]; next: string | null } | null> {
    this._pending++;
    this._changed.emit();
    try {
      const page = await this._backend.history({
        documentId: this._query.documentId,
        ...query
      });
      this._error = null;
      return page;
    } catch (error) {
      this._error = error instanceof Error ? error.message : String(error);
      return null;
    } finally {
      this._pending--;
      if (!this.isDisposed) {
        this._changed.emit();
      }
    }
  }

  private _onDocChanged(collab: CollabExecModel): void {
    const recorded = collab.recordedRuns(this._query.cellId);
    if (recorded !== this._recorded) {
      this._recorded = recorded;
      void this.refresh();
    }
  }

  private _backend: IHistoryBackend;
  private _query: IHistoryQuery;
  private _pageSize: number;
  private _collab: CollabExecModel | null;
  private _recorded = 0;
  private _runs: IRunSummary[] = [];
  private _next: string | null = null;
  private _pending = 0;
  private _generation = 0;
  private _error: string | null = null;
  private _changed = new Signal<this, void>(this);
}

export namespace RunList {
  export interface IOptions {
    backend: IHistoryBackend;
    /**
     * The notebook, and the cell or person when only theirs are listed; the page size
     * is the list's own.
     */
    query: Omit<IHistoryQuery, 'before' | 'limit'>;
    pageSize?: number;
    /**
     * The `collab_exec` model of the notebook's doc: the list refreshes when the runs it
     * counts grow.
     */
    collab?: CollabExecModel | null;
  }
}
