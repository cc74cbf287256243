/**
 * What a page builds from the doc and from the saved widget state, and what it leaves out:
 * any room member can write the doc, so a model is built from an entry of `collab_widgets`,
 * and the saved widget state of the notebook's metadata is restored, only when the server
 * confirms that it wrote exactly that (ICollabExecTrust). A view of a model left out for
 * that reason shows the widget's text, with a note why.
 */
import type {
  WidgetManager,
  WidgetRenderer
} from '@jupyter-widgets/jupyterlab-manager';
import type { IRenderMime } from '@jupyterlab/rendermime';
import { type ITranslator, nullTranslator } from '@jupyterlab/translation';

import type { IWidgetModelEntry } from '../doc/schema';
import type { ICollabExecTrust } from '../server/tokens';
import { jsonDigest, widgetEntryDigest } from '../trust/digests';
import { managerDocumentId } from './doc';

/**
 * The MIME type of the saved widget state in the notebook metadata `widgets`.
 */
const WIDGET_STATE_MIMETYPE = 'application/vnd.jupyter.widget-state+json';

export class WidgetConfirmation {
  constructor(
    trust: ICollabExecTrust,
    translator: ITranslator = nullTranslator
  ) {
    this._trust = trust;
    this._translator = translator;
  }

  /**
   * Whether the server confirms anything: without its extension, the saved state is
   * restored as JupyterLab restores it and nothing is built from the doc.
   */
  enabled(): Promise<boolean> {
    return this._trust.enabled();
  }

  /**
   * Whether the server wrote this entry of `collab_widgets` into the manager's notebook.
   */
  async entryConfirmed(
    manager: WidgetManager,
    modelId: string,
    entry: IWidgetModelEntry
  ): Promise<boolean> {
    const documentId = managerDocumentId(manager);
    const digest = widgetEntryDigest(entry);
    return (
      documentId !== null &&
      digest !== null &&
      this._trust.modelConfirmed(documentId, modelId, digest)
    );
  }

  /**
   * Remember models that are not built from what the doc or the metadata says: their
   * views show the widget's text.
   */
  reject(manager: WidgetManager, modelIds: Iterable<string>): void {
    let rejected = this._rejected.get(manager);
    if (!rejected) {
      rejected = new Set();
      this._rejected.set(manager, rejected);
    }
    for (const modelId of modelIds) {
      rejected.add(modelId);
    }
  }

  isRejected(manager: WidgetManager, modelId: string): boolean {
    return (
      !manager.has_model(modelId) &&
      (this._rejected.get(manager)?.has(modelId) ?? false)
    );
  }

  /**
   * Whether the saved widget state of the notebook metadata may be restored: always
   * without the server extension, as in JupyterLab; otherwise only as the server
   * confirms it.
   */
  async savedStateConfirmed(
    manager: WidgetManager,
    saved: unknown
  ): Promise<boolean> {
    if (!(await this._trust.enabled())) {
      return true;
    }
    const documentId = managerDocumentId(manager);
    const digest = jsonDigest(saved);
    const confirmed =
      documentId !== null &&
      digest !== null &&
      (await this._trust.widgetStateConfirmed(documentId, digest));
    if (!confirmed) {
      this.reject(manager, savedModelIds(saved));
    }
    return confirmed;
  }

  /**
   * A view of a model that was not built: the widget's text, and why.
   */
  showText(renderer: WidgetRenderer, model: IRenderMime.IMimeModel): void {
    const trans = this._translator.load('jupyterlab-collab-exec');
    const text = model.data['text/plain'];
    renderer.node.textContent = '';
    const pre = document.createElement('pre');
    pre.textContent = typeof text === 'string' ? text : '';
    const note = document.createElement('div');
    note.className = 'jp-CollabExec-widgetNote';
    note.textContent = trans.__(
      'This widget is shown as text: its state in the shared document was not written by the server.'
    );
    renderer.node.append(pre, note);
  }

  private _trust: ICollabExecTrust;
  private _translator: ITranslator;
  private _rejected = new WeakMap<WidgetManager, Set<string>>();
}

/**
 * The ids of the models in a saved widget state.
 */
function savedModelIds(saved: unknown): string[] {
  const state = (saved as Record<string, unknown> | null)?.[
    WIDGET_STATE_MIMETYPE
  ] as { state?: unknown } | undefined;
  const models = state?.state;
  return models && typeof models === 'object' ? Object.keys(models) : [];
}
