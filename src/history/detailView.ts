/**
 * `RunDetailView`: one run of a cell, as its history shows it: the facts, the inputs
 * answered, its source against the cell's source now, its outputs rendered by
 * JupyterLab's rendermime, and "Restore these outputs".
 */
import { OutputArea, OutputAreaModel } from '@jupyterlab/outputarea';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import {
  nullTranslator,
  type ITranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { type ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { createElement, LIVE_STATUS, setAttributes } from '../common/dom';
import { formatTime, type TimeFormatter } from '../status/text';
import { sameSource, sourceChanges } from './diff';
import type { IRunDetail } from '../server/runs';
import { runFacts } from './text';

/**
 * The MIME type of a widget's view. An old run's widget would show the model as it is
 * now, or nothing once its kernel is gone, so it shows its text fallback instead.
 */
export const WIDGET_VIEW_MIME_TYPE = 'application/vnd.jupyter.widget-view+json';

/**
 * A rendermime for old runs: the application's renderers, less the widget view.
 */
export function historyRendermime(
  rendermime: IRenderMimeRegistry
): IRenderMimeRegistry {
  const clone = rendermime.clone();
  clone.removeMimeType(WIDGET_VIEW_MIME_TYPE);
  return clone;
}

export class RunDetailView extends Panel {
  constructor(options: RunDetailView.IOptions) {
    super();
    this.addClass('jp-CollabExec-historyDetail');
    this._trans = (options.translator ?? nullTranslator).load(
      'jupyterlab-collab-exec'
    );
    this._now = options.now ?? Date.now;
    this._formatTime = options.formatTime ?? formatTime;

    const header = new Widget();
    header.addClass('jp-CollabExec-historyHeader');
    this._facts = createElement('ul', 'jp-CollabExec-historyFacts');
    this._restore = createElement(
      'button',
      'jp-mod-styled jp-mod-accept jp-CollabExec-historyRestore',
      { type: 'button' }
    );
    this._restore.textContent = this._trans.__('Restore these outputs');
    this._restore.addEventListener('click', this._onRestore);
    this._notice = createElement('div', 'jp-CollabExec-historyNotice');
    setAttributes(this._notice, LIVE_STATUS);
    const sourceTitle = createElement('h3', 'jp-CollabExec-historyHeading');
    this._sourceTitle = sourceTitle;
    this._source = createElement('pre', 'jp-CollabExec-historySource', {
      'aria-label': this._trans.__('Source of the run')
    });
    const outputsTitle = createElement('h3', 'jp-CollabExec-historyHeading');
    outputsTitle.textContent = this._trans.__('Outputs');
    this._outputsTitle = outputsTitle;
    header.node.append(
      this._facts,
      this._restore,
      this._notice,
      sourceTitle,
      this._source,
      outputsTitle
    );
    this.addWidget(header);

    this._model = new OutputAreaModel({ trusted: true });
    this._outputs = new OutputArea({
      model: this._model,
      rendermime: options.rendermime,
      translator: options.translator
    });
    this._outputs.addClass('jp-CollabExec-historyOutputs');
    this.addWidget(this._outputs);
    this.showRun(null);
  }

  /**
   * Emitted when someone asks to restore the run shown.
   */
  get restoreRequested(): ISignal<this, IRunDetail> {
    return this._restoreRequested;
  }

  /**
   * The run shown, or null.
   */
  get run(): IRunDetail | null {
    return this._run;
  }

  /**
   * Show a run, or nothing; `currentSource` is the cell's source now, or null when the
   * cell is no longer in the notebook.
   */
  showRun(run: IRunDetail | null, currentSource: string | null = null): void {
    this._run = run;
    this._currentSource = currentSource;
    this.setNotice('');
    this.node.dataset.runId = run?.run_id ?? '';
    this._model.clear();
    if (!run) {
      this._facts.replaceChildren();
      this._source.replaceChildren();
      this._restore.hidden = true;
      this._sourceTitle.hidden = true;
      this._outputsTitle.hidden = true;
      return;
    }
    const facts = runFacts(run, {
      now: this._now(),
      trans: this._trans,
      formatTime: this._formatTime
    }).map(fact => {
      const item = createElement('li', 'jp-CollabExec-historyFact');
      item.textContent = fact;
      return item;
    });
    this._facts.replaceChildren(...facts);
    this._restore.hidden = false;
    this._sourceTitle.hidden = false;
    this._outputsTitle.hidden = false;
    this._outputsTitle.textContent = run.outputs.length
      ? this._trans.__('Outputs')
      : this._trans.__('No outputs');
    this._renderSource();
    this._model.fromJSON(run.outputs);
  }

  /**
   * Follow the cell's source as it is edited, for the diff.
   */
  setCurrentSource(source: string | null): void {
    if (source !== this._currentSource && this._run) {
      this._currentSource = source;
      this._renderSource();
    }
  }

  /**
   * Say how a restore went; an empty text clears it.
   */
  setNotice(text: string, error = false): void {
    this._notice.textContent = text;
    this._notice.classList.toggle('jp-mod-error', error);
  }

  /**
   * Whether "Restore these outputs" can be pressed: not while a restore is under way.
   */
  setRestoring(restoring: boolean): void {
    this._restore.disabled = restoring;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.dispose();
    super.dispose();
  }

  private _renderSource(): void {
    const run = this._run;
    if (!run) {
      return;
    }
    const current = this._currentSource;
    if (current === null) {
      this._sourceTitle.textContent = this._trans.__(
        'Source (the cell is no longer in the notebook)'
      );
      this._source.textContent = run.source;
      return;
    }
    const changes = sourceChanges(run.source, current);
    if (sameSource(changes)) {
      this._sourceTitle.textContent = this._trans.__(
        "Source (the same as the cell's now)"
      );
      this._source.textContent = run.source;
      return;
    }
    this._sourceTitle.textContent = this._trans.__(
      "Source, against the cell's now"
    );
    this._source.replaceChildren(
      ...changes.map(change => {
        const tag =
          change.kind === 'added'
            ? 'ins'
            : change.kind === 'removed'
              ? 'del'
              : 'span';
        const part = createElement(tag, `jp-CollabExec-diff-${change.kind}`);
        part.textContent = change.text;
        if (change.kind !== 'same') {
          part.title =
            change.kind === 'added'
              ? this._trans.__('Only in the cell now')
              : this._trans.__('Only in this run');
        }
        return part;
      })
    );
  }

  private _onRestore = (): void => {
    if (this._run) {
      this._restoreRequested.emit(this._run);
    }
  };

  private _trans: TranslationBundle;
  private _now: () => number;
  private _formatTime: TimeFormatter;
  private _facts: HTMLUListElement;
  private _restore: HTMLButtonElement;
  private _notice: HTMLElement;
  private _sourceTitle: HTMLElement;
  private _source: HTMLPreElement;
  private _outputsTitle: HTMLElement;
  private _model: OutputAreaModel;
  private _outputs: OutputArea;
  private _run: IRunDetail | null = null;
  private _currentSource: string | null = null;
  private _restoreRequested = new Signal<this, IRunDetail>(this);
}

export namespace RunDetailView {
  export interface IOptions {
    /**
     * The renderers of outputs: `historyRendermime` of the application's.
     */
    rendermime: IRenderMimeRegistry;
    translator?: ITranslator;
    now?: () => number;
    formatTime?: TimeFormatter;
  }
}
