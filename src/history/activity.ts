/**
 * `ActivityPanel`: the side panel of the current notebook's runs across its cells,
 * newest first, filterable by person; activating a run asks to go to its cell.
 */
import {
  nullTranslator,
  type ITranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { createElement } from '../common/dom';
import type { CollabExecModel } from '../doc/model';
import type { IPerson } from '../doc/schema';
import type { IHistoryBackend } from '../server/backends';
import { RunList } from './list';
import { RunListView } from './listView';
import type { IRunSummary } from '../server/runs';

/**
 * The notebook whose runs the panel lists.
 */
export interface IActivitySource {
  documentId: string;
  collab: CollabExecModel | null;
  /**
   * What to call each cell of the notebook, by id ("Cell 3").
   */
  cellLabels: ReadonlyMap<string, string>;
}

export class ActivityPanel extends Panel {
  constructor(options: ActivityPanel.IOptions) {
    super();
    this.addClass('jp-CollabExec-activity');
    this._backend = options.backend;
    this._translator = options.translator ?? nullTranslator;
    this._trans = this._translator.load('jupyterlab-collab-exec');
    this.title.label = this._trans.__('Activity');
    this.title.caption = this._trans.__(
      'Runs of the notebook, newest first, by everyone'
    );

    const header = new Widget();
    header.addClass('jp-CollabExec-activityHeader');
    const heading = createElement('h2', 'jp-CollabExec-activityTitle');
    heading.textContent = this._trans.__('Activity');
    const label = createElement('label', 'jp-CollabExec-activityFilter');
    label.textContent = this._trans.__('Runs by');
    this._people = createElement('select', 'jp-mod-styled');
    this._people.addEventListener('change', this._onFilter);
    label.append(this._people);
    this._empty = createElement('p', 'jp-CollabExec-activityEmpty');
    this._empty.textContent = this._trans.__(
      'Open a collaborative notebook to see its runs.'
    );
    header.node.append(heading, label, this._empty);
    this.addWidget(header);
    this.setSource(null);
  }

  /**
   * Emitted when a run is activated: go to its cell.
   */
  get cellRequested(): ISignal<this, IRunSummary> {
    return this._cellRequested;
  }

  /**
   * The runs listed, or null without a notebook.
   */
  get list(): RunList | null {
    return this._list;
  }

  /**
   * List the runs of another notebook, or of none.
   */
  setSource(source: IActivitySource | null): void {
    if (
      source?.documentId === this._documentId &&
      source?.collab === this._collab
    ) {
      if (source) {
        this._view?.setCellLabels(source.cellLabels);
      }
      return;
    }
    this._view?.dispose();
    this._list?.dispose();
    this._view = null;
    this._list = null;
    this._documentId = source?.documentId ?? null;
    this._collab = source?.collab ?? null;
    this._known.clear();
    this._empty.hidden = source !== null;
    this._people.disabled = source === null;
    if (!source) {
      this._renderPeople();
      return;
    }
    this._list = new RunList({
      backend: this._backend,
      query: { documentId: source.documentId },
      collab: source.collab
    });
    this._list.changed.connect(this._onListChanged, this);
    this._view = new RunListView({
      list: this._list,
      label: this._trans.__('Runs of the notebook, newest first'),
      translator: this._translator
    });
    this._view.setCellLabels(source.cellLabels);
    this._view.activated.connect(this._onActivated, this);
    this.addWidget(this._view);
    this._renderPeople();
    void this._list.load();
  }

  /**
   * Rename the cells, as they move.
   */
  setCellLabels(labels: ReadonlyMap<string, string>): void {
    this._view?.setCellLabels(labels);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._list?.dispose();
    super.dispose();
  }

  protected onActivateRequest(): void {
    this._view?.node
      .querySelector<HTMLElement>('[role="listbox"]')
      ?.focus({ preventScroll: true });
  }

  private _onListChanged(list: RunList): void {
    let added = false;
    for (const run of list.runs) {
      const person = run.submitted_by;
      if (person.username && !this._known.has(person.username)) {
        this._known.set(person.username, person);
        added = true;
      }
    }
    if (added) {
      this._renderPeople();
    }
  }

  /**
   * Everyone, then each person seen in the runs, by name.
   */
  private _renderPeople(): void {
    const selected = this._list?.submittedBy ?? '';
    const everyone = createElement('option', '');
    everyone.value = '';
    everyone.textContent = this._trans.__('Everyone');
    const people = [...this._known.values()].sort((a, b) =>
      (a.display_name || a.username).localeCompare(b.display_name || b.username)
    );
    this._people.replaceChildren(
      everyone,
      ...people.map(person => {
        const option = createElement('option', '');
        option.value = person.username;
        option.textContent = person.display_name || person.username;
        return option;
      })
    );
    this._people.value = selected;
  }

  private _onFilter = (): void => {
    void this._list?.setSubmittedBy(this._people.value || null);
  };

  private _onActivated(_view: RunListView, run: IRunSummary): void {
    this._cellRequested.emit(run);
  }

  private _backend: IHistoryBackend;
  private _translator: ITranslator;
  private _trans: TranslationBundle;
  private _people: HTMLSelectElement;
  private _empty: HTMLElement;
  private _documentId: string | null = null;
  private _collab: CollabExecModel | null = null;
  private _list: RunList | null = null;
  private _view: RunListView | null = null;
  private _known = new Map<string, IPerson>();
  private _cellRequested = new Signal<this, IRunSummary>(this);
}

export namespace ActivityPanel {
  export interface IOptions {
    backend: IHistoryBackend;
    translator?: ITranslator;
  }
}
