/**
 * `RunListView`: the runs of a `RunList` as a listbox, newest first, with a button for
 * older runs. Arrow keys, Home and End move the selection; Enter activates a run.
 */
import {
  nullTranslator,
  type ITranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { createElement, LIVE_STATUS, setAttributes } from '../common/dom';
import { statusClass } from '../status/badge';
import { formatTime, type TimeFormatter } from '../status/text';
import type { RunList } from './list';
import type { IRunSummary } from '../server/runs';
import { runLine } from './text';

/**
 * The class of a run's line.
 */
export const RUN_ITEM_CLASS = 'jp-CollabExec-historyRun';

/**
 * Numbers the lists of the page, for the ids of their options.
 */
let listCount = 0;

export class RunListView extends Widget {
  constructor(options: RunListView.IOptions) {
    super();
    this.addClass('jp-CollabExec-historyList');
    this.id = `jp-CollabExec-historyList-${++listCount}`;
    this._list = options.list;
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._now = options.now ?? Date.now;
    this._formatTime = options.formatTime ?? formatTime;
    this._listbox = createElement('ul', 'jp-CollabExec-historyRuns', {
      role: 'listbox',
      tabindex: '0',
      'aria-label': options.label
    });
    this._status = createElement('div', 'jp-CollabExec-historyStatus');
    setAttributes(this._status, LIVE_STATUS);
    this._more = createElement(
      'button',
      'jp-mod-styled jp-CollabExec-historyMore',
      {
        type: 'button'
      }
    );
    this._more.textContent = this._trans.__('Load older runs');
    this.node.append(this._listbox, this._status, this._more);
    this._listbox.addEventListener('keydown', this._onKeyDown);
    this._listbox.addEventListener('click', this._onClick);
    this._more.addEventListener('click', this._onMore);
    this._list.changed.connect(this.render, this);
    this.render();
  }

  /**
   * Emitted when the selected run changes: by the keyboard, a click, or the list.
   */
  get selectionChanged(): ISignal<this, IRunSummary | null> {
    return this._selectionChanged;
  }

  /**
   * Emitted when a run is activated: Enter, or a click.
   */
  get activated(): ISignal<this, IRunSummary> {
    return this._activated;
  }

  get selected(): IRunSummary | null {
    return this._list.runs.find(run => run.run_id === this._selectedId) ?? null;
  }

  /**
   * The labels of cells, shown before each run (the Activity panel); none by default.
   */
  setCellLabels(labels: ReadonlyMap<string, string> | null): void {
    this._cellLabels = labels;
    this.render();
  }

  /**
   * Select a run by id; the first run when the id is not listed. Until a run is selected
   * so, the newest run is, as runs come in.
   */
  select(runId: string | null): void {
    this._chosen = runId !== null;
    this._select(runId);
  }

  private _select(runId: string | null): void {
    const runs = this._list.runs;
    const next =
      runs.find(run => run.run_id === runId) ?? (runs.length ? runs[0] : null);
    const nextId = next?.run_id ?? null;
    if (nextId !== this._selectedId) {
      this._selectedId = nextId;
      this._renderSelection();
      this._selectionChanged.emit(next);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._list.changed.disconnect(this.render, this);
    super.dispose();
  }

  /**
   * Show the runs loaded so far.
   */
  render(): void {
    if (this.isDisposed) {
      return;
    }
    const now = this._now();
    const runs = this._list.runs;
    const items = runs.map(run => this._item(run, now));
    this._listbox.replaceChildren(...items);
    this._more.hidden = !this._list.hasMore;
    this._more.disabled = this._list.loading;
    const error = this._list.error;
    this._status.classList.toggle('jp-mod-error', error !== null);
    this._status.textContent =
      error !== null
        ? this._trans.__('Cannot read the run history: %1', error)
        : this._list.loading
          ? this._trans.__('Loading runs…')
          : runs.length
            ? ''
            : this._trans.__('No runs recorded yet.');
    if (
      !runs.some(run => run.run_id === this._selectedId) ||
      (!this._chosen && runs[0].run_id !== this._selectedId)
    ) {
      this._select(null);
    } else {
      this._renderSelection();
    }
  }

  private _item(run: IRunSummary, now: number): HTMLLIElement {
    const line = runLine(run, {
      now,
      trans: this._trans,
      formatTime: this._formatTime
    });
    const item = createElement(
      'li',
      `${RUN_ITEM_CLASS} jp-mod-${statusClass(run.status)}`,
      {
        role: 'option',
        id: `${this.id}-run-${run.run_id}`,
        title: line.title,
        'aria-selected': 'false',
        'data-run-id': run.run_id,
        'data-status': run.status,
        'data-kind': run.kind
      }
    );
    const cell = this._cellLabels?.get(run.cell_id);
    if (this._cellLabels) {
      const label = createElement('span', 'jp-CollabExec-historyRunCell');
      label.textContent = cell ?? this._trans.__('Deleted cell');
      item.append(label);
    }
    const prompt = createElement('span', 'jp-CollabExec-historyRunPrompt');
    prompt.textContent = line.prompt;
    const text = createElement('span', 'jp-CollabExec-historyRunLabel');
    text.textContent = line.label;
    const when = createElement('span', 'jp-CollabExec-historyRunWhen');
    when.textContent = line.when;
    item.append(prompt, text, when);
    return item;
  }

  private _renderSelection(): void {
    let active: HTMLElement | null = null;
    for (const item of Array.from(this._listbox.children)) {
      const selected = (item as HTMLElement).dataset.runId === this._selectedId;
      item.setAttribute('aria-selected', selected ? 'true' : 'false');
      item.classList.toggle('jp-mod-selected', selected);
      if (selected) {
        active = item as HTMLElement;
      }
    }
    if (active) {
      this._listbox.setAttribute('aria-activedescendant', active.id);
      active.scrollIntoView?.({ block: 'nearest' });
    } else {
      this._listbox.removeAttribute('aria-activedescendant');
    }
  }

  private _onKeyDown = (event: KeyboardEvent): void => {
    const runs = this._list.runs;
    if (!runs.length) {
      return;
    }
    const index = runs.findIndex(run => run.run_id === this._selectedId);
    let next = index;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(runs.length - 1, index + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, index - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = runs.length - 1;
        break;
      case 'Enter':
      case ' ': {
        const selected = this.selected;
        if (selected) {
          this._activated.emit(selected);
        }
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
    this.select(runs[Math.max(0, next)].run_id);
  };

  private _onClick = (event: MouseEvent): void => {
    const item = (event.target as HTMLElement).closest<HTMLElement>(
      `.${RUN_ITEM_CLASS}`
    );
    const runId = item?.dataset.runId;
    if (!runId) {
      return;
    }
    this.select(runId);
    const selected = this.selected;
    if (selected) {
      this._activated.emit(selected);
    }
  };

  private _onMore = (): void => {
    void this._list.loadMore();
  };

  private _list: RunList;
  private _trans: TranslationBundle;
  private _now: () => number;
  private _formatTime: TimeFormatter;
  private _listbox: HTMLUListElement;
  private _status: HTMLElement;
  private _more: HTMLButtonElement;
  private _cellLabels: ReadonlyMap<string, string> | null = null;
  private _selectedId: string | null = null;
  // Whether someone chose the selected run, rather than it being the newest.
  private _chosen = false;
  private _selectionChanged = new Signal<this, IRunSummary | null>(this);
  private _activated = new Signal<this, IRunSummary>(this);
}

export namespace RunListView {
  export interface IOptions {
    list: RunList;
    /**
     * What the list holds, for screen readers.
     */
    label: string;
    translator?: ITranslator;
    now?: () => number;
    formatTime?: TimeFormatter;
  }
}
