/**
 * Trust of cell outputs from the server, never from the doc.
 *
 * Every room member can write a cell's outputs and its `metadata.trusted` into the shared
 * document, so nothing read there grants trust. A cell's outputs are trusted in a view when
 * the server confirms that they are exactly what it wrote for that cell (or, for a cell it
 * never ran, what a notebook file with a trusted signature brought), or when the person in
 * this page trusted them (localTrust.ts): by running the cell with JupyterLab's own
 * executor, or by trusting the notebook while the cell shows outputs. A notebook that is not
 * shared keeps JupyterLab's own trust.
 *
 * - Before a trusted output renders, its cell is checked (`allowTrustedRender`, which the
 *   render gate calls): outputs that the server did not write make the cell untrusted
 *   instead, in every view, and render as JupyterLab renders untrusted outputs.
 * - An untrusted cell whose outputs the server confirms becomes trusted, so that the
 *   widgets, HTML and JavaScript that a server run printed render for everyone.
 * - An empty output area is trusted, as JupyterLab trusts a cleared cell: what the server
 *   writes next renders at once, once confirmed.
 *
 * Only the output area's trust changes: the cell's `trusted` flag and its
 * `metadata.trusted` in the shared document are left alone.
 */
import type { ICellModel, ICodeCellModel } from '@jupyterlab/cells';
import type { INotebookModel } from '@jupyterlab/notebook';
import type { IOutputModel } from '@jupyterlab/rendermime';

import { Disposable } from '../common/disposable';
import { grantLocalTrust, hasLocalTrust } from './local';
import { notebookDocumentId, notebookYDoc } from '../doc/notebook';
import { outputDigest } from './digests';
import type { TrustVerifier } from './verifier';

/**
 * MIME types whose rendering is the same whether trusted or not.
 */
export const INERT_MIME_TYPES: ReadonlySet<string> = new Set([
  'text/plain',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/bmp',
  'application/vnd.jupyter.stdout',
  'application/vnd.jupyter.stderr',
  'application/vnd.jupyter.error'
]);

/**
 * How many times a render asks again when the cell changed while the server answered.
 */
const ATTEMPTS = 3;

export class NotebookOutputTrust extends Disposable {
  /**
   * The trust of one notebook model, shared by all its views.
   */
  static forModel(
    model: INotebookModel,
    verifier: TrustVerifier
  ): NotebookOutputTrust {
    let trust = Private.trusts.get(model);
    if (!trust || trust.isDisposed) {
      trust = new NotebookOutputTrust(model, verifier);
      Private.trusts.set(model, trust);
    }
    return trust;
  }

  constructor(model: INotebookModel, verifier: TrustVerifier) {
    super();
    this._model = model;
    this._verifier = verifier;
    // A shared notebook is one whose document others can write.
    this._shared = model.collaborative === true && notebookYDoc(model) !== null;
    model.cells.changed.connect(this._onCellsChanged, this);
    this._onCellsChanged();
  }

  protected onDispose(): void {
    if (!this._model.isDisposed) {
      this._model.cells.changed.disconnect(this._onCellsChanged, this);
    }
    for (const cell of this._followed) {
      if (!cell.isDisposed) {
        cell.outputs.changed.disconnect(this._onOutputsChanged, this);
        cell.stateChanged.disconnect(this._onCellStateChanged, this);
      }
    }
    this._followed.clear();
  }

  /**
   * Whether a trusted output may render as trusted. When it may not, its cell has been
   * made untrusted and the output renders again, untrusted.
   */
  async allowTrustedRender(output: IOutputModel): Promise<boolean> {
    if (!(await this._verifier.enabled())) {
      return true;
    }
    const cell = this._cellOf(output);
    if (!cell || !this._shared) {
      // Not a cell's output (an Output widget's, say), or not a shared notebook: its own
      // trust stands.
      return true;
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (hasLocalTrust(cell)) {
        return true;
      }
      const digests = this._digests(cell);
      const verdict = digests
        ? await this._verdict(cell, digests)
        : ('untrusted' as const);
      if (this.isDisposed || this._cellOf(output) !== cell) {
        // The output is gone meanwhile: it will not render.
        return false;
      }
      if (digests && !sameList(this._digests(cell), digests)) {
        continue;
      }
      if (verdict === 'trusted' || hasLocalTrust(cell)) {
        return true;
      }
      break;
    }
    setOutputsTrusted(cell, false);
    return false;
  }

  private _onCellsChanged(): void {
    const current = new Set<ICodeCellModel>();
    for (const cell of this._model.cells) {
      if (cell.type === 'code') {
        current.add(cell as ICodeCellModel);
      }
    }
    for (const cell of this._followed) {
      if (!current.has(cell)) {
        this._followed.delete(cell);
        if (!cell.isDisposed) {
          cell.outputs.changed.disconnect(this._onOutputsChanged, this);
          cell.stateChanged.disconnect(this._onCellStateChanged, this);
        }
      }
    }
    for (const cell of current) {
      if (!this._followed.has(cell)) {
        this._followed.add(cell);
        this._cellsByOutputs.set(cell.outputs, cell);
        cell.outputs.changed.connect(this._onOutputsChanged, this);
        cell.stateChanged.connect(this._onCellStateChanged, this);
        this._scheduleReview(cell);
      }
    }
  }

  private _onOutputsChanged(sender: ICodeCellModel['outputs']): void {
    const cell = this._cellsByOutputs.get(sender);
    if (cell) {
      this._scheduleReview(cell);
    }
  }

  /**
   * Someone in this page trusted a cell that shows outputs ("Trust Notebook"): JupyterLab
   * never does that from the shared document after the cell is made.
   */
  private _onCellStateChanged(
    sender: ICellModel,
    change: { name: string; newValue?: unknown }
  ): void {
    const cell = sender as ICodeCellModel;
    if (
      change.name === 'trusted' &&
      change.newValue === true &&
      cell.outputs.length
    ) {
      grantLocalTrust(cell);
      this._scheduleReview(cell);
    }
  }

  private _scheduleReview(cell: ICodeCellModel): void {
    if (this._reviews.has(cell)) {
      return;
    }
    this._reviews.add(cell);
    setTimeout(() => {
      this._reviews.delete(cell);
      void this._review(cell);
    }, 0);
  }

  /**
   * Trust an empty output area, and an untrusted cell whose outputs the server confirms.
   */
  private async _review(cell: ICodeCellModel): Promise<void> {
    if (
      this.isDisposed ||
      cell.isDisposed ||
      !(await this._verifier.enabled())
    ) {
      return;
    }
    const outputs = cell.outputs;
    if (!this._shared) {
      return;
    }
    if (!outputs.length || hasLocalTrust(cell)) {
      setOutputsTrusted(cell, true);
      return;
    }
    if (outputs.trusted || !hasSensitiveOutput(cell)) {
      return;
    }
    const digests = this._digests(cell);
    if (!digests) {
      return;
    }
    const verdict = await this._verdict(cell, digests);
    if (
      verdict === 'trusted' &&
      !cell.isDisposed &&
      sameList(this._digests(cell), digests)
    ) {
      setOutputsTrusted(cell, true);
    }
  }

  private _verdict(
    cell: ICodeCellModel,
    digests: string[]
  ): Promise<'trusted' | 'untrusted' | 'unknown'> {
    const documentId = notebookDocumentId(this._model);
    if (!documentId) {
      return Promise.resolve('untrusted');
    }
    return this._verifier.cellVerdict(documentId, cell.id, digests);
  }

  /**
   * The digest of each output of a cell as the view holds it; null if one has none.
   */
  private _digests(cell: ICodeCellModel): string[] | null {
    const digests: string[] = [];
    for (let index = 0; index < cell.outputs.length; index++) {
      const output = cell.outputs.get(index);
      let digest = this._outputDigests.get(output);
      if (digest === undefined) {
        digest = outputDigest(
          output.toJSON() as unknown as Record<string, unknown>
        );
        this._outputDigests.set(output, digest);
        output.changed.connect(this._forgetDigest, this);
      }
      if (digest === null) {
        return null;
      }
      digests.push(digest);
    }
    return digests;
  }

  private _forgetDigest(output: IOutputModel): void {
    this._outputDigests.delete(output);
  }

  private _cellOf(output: IOutputModel): ICodeCellModel | null {
    const last = this._lastCell;
    if (last && !last.isDisposed && holds(last, output)) {
      return last;
    }
    for (const cell of this._followed) {
      if (!cell.isDisposed && holds(cell, output)) {
        this._lastCell = cell;
        return cell;
      }
    }
    return null;
  }

  private _model: INotebookModel;
  private _verifier: TrustVerifier;
  private _followed = new Set<ICodeCellModel>();
  private _cellsByOutputs = new WeakMap<
    ICodeCellModel['outputs'],
    ICodeCellModel
  >();
  private _reviews = new Set<ICodeCellModel>();
  private _outputDigests = new WeakMap<IOutputModel, string | null>();
  private _lastCell: ICodeCellModel | null = null;
  private _shared: boolean;
}

/**
 * Set the trust of a cell's outputs in this browser only. JupyterLab's code cell model
 * writes its outputs back into the shared document when their models are replaced, which
 * a change of trust does: that write is left out, since nothing in the outputs changed.
 */
export function setOutputsTrusted(
  cell: ICodeCellModel,
  trusted: boolean
): void {
  const outputs = cell.outputs;
  if (outputs.trusted === trusted) {
    return;
  }
  const writer = (cell as unknown as ICodeCellModelInternals).onOutputsChange;
  const connected =
    typeof writer === 'function' && outputs.changed.disconnect(writer, cell);
  try {
    outputs.trusted = trusted;
  } finally {
    if (connected) {
      outputs.changed.connect(writer, cell);
    }
  }
}

/**
 * Whether a cell shows an output that renders differently when trusted.
 */
export function hasSensitiveOutput(cell: ICodeCellModel): boolean {
  for (let index = 0; index < cell.outputs.length; index++) {
    const data = cell.outputs.get(index).data;
    if (Object.keys(data).some(mimeType => !INERT_MIME_TYPES.has(mimeType))) {
      return true;
    }
  }
  return false;
}

function holds(cell: ICodeCellModel, output: IOutputModel): boolean {
  const outputs = cell.outputs;
  for (let index = 0; index < outputs.length; index++) {
    if (outputs.get(index) === output) {
      return true;
    }
  }
  return false;
}

function sameList(
  left: ReadonlyArray<string> | null,
  right: ReadonlyArray<string>
): boolean {
  return (
    left !== null &&
    left.length === right.length &&
    left.every((item, index) => item === right[index])
  );
}

/**
 * What JupyterLab's code cell model connects to its outputs' changes: the writer of the
 * shared outputs.
 */
interface ICodeCellModelInternals {
  onOutputsChange: (sender: unknown, args: unknown) => void;
}

namespace Private {
  export const trusts = new WeakMap<INotebookModel, NotebookOutputTrust>();
}
