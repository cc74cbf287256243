/**
 * Asks the server whether what a view holds is exactly what the server wrote: a cell's
 * outputs, a widget model's entry, the saved widget state. Questions asked in the same
 * turn of the event loop go in one request. A confirmation is kept, since what the server
 * wrote stays genuine; a refusal is not, since the server may yet write the same.
 *
 * A failed request refuses everything: nothing is trusted that the server did not confirm.
 */
import { PromiseDelegate } from '@lumino/coreutils';

import type {
  CellVerdict,
  ITrustAnswer,
  ITrustBackend,
  ITrustQuestion
} from '../server/backends';

/**
 * How many confirmations are kept per document.
 */
const KEPT_CONFIRMATIONS = 10_000;

/**
 * The server's feature that trust needs.
 */
export const TRUST_FEATURE = 'trust';

export class TrustVerifier {
  constructor(backend: ITrustBackend) {
    this._backend = backend;
  }

  /**
   * Whether the server confirms what views hold: false when the server lacks the
   * extension or this feature; then no trust is given or taken.
   */
  async enabled(): Promise<boolean> {
    this._enabled ??= this._backend
      .info()
      .then(info => !!info?.features.includes(TRUST_FEATURE))
      .catch(() => false);
    return this._enabled;
  }

  /**
   * What the server says of a cell whose outputs have these digests.
   */
  cellVerdict(
    documentId: string,
    cellId: string,
    digests: ReadonlyArray<string>
  ): Promise<CellVerdict> {
    const key = `cell\n${cellId}\n${digests.join(',')}`;
    if (this._confirmed(documentId).has(key)) {
      return Promise.resolve('trusted');
    }
    const joined = digests.join(',');
    return this._ask(documentId, question => {
      const asked = question.cells.get(cellId);
      if (asked && asked.join(',') !== joined) {
        return false;
      }
      question.cells.set(cellId, [...digests]);
      return true;
    }).then(answer => {
      const verdict = answer?.cells[cellId] ?? 'untrusted';
      if (verdict === 'trusted') {
        this._confirm(documentId, key);
      }
      return verdict;
    });
  }

  /**
   * Whether the server wrote a widget model's entry with this digest into the document.
   */
  modelConfirmed(
    documentId: string,
    modelId: string,
    digest: string
  ): Promise<boolean> {
    const key = `model\n${modelId}\n${digest}`;
    if (this._confirmed(documentId).has(key)) {
      return Promise.resolve(true);
    }
    return this._ask(documentId, question => {
      const asked = question.models.get(modelId);
      if (asked !== undefined && asked !== digest) {
        return false;
      }
      question.models.set(modelId, digest);
      return true;
    }).then(answer => {
      const confirmed = answer?.widget_models[modelId] === true;
      if (confirmed) {
        this._confirm(documentId, key);
      }
      return confirmed;
    });
  }

  /**
   * Whether the server confirms the saved widget state with this digest: it wrote it, or
   * the file brought it and no client changed it since.
   */
  widgetStateConfirmed(documentId: string, digest: string): Promise<boolean> {
    const key = `state\n${digest}`;
    if (this._confirmed(documentId).has(key)) {
      return Promise.resolve(true);
    }
    return this._ask(documentId, question => {
      if (question.widgetState !== null && question.widgetState !== digest) {
        return false;
      }
      question.widgetState = digest;
      return true;
    }).then(answer => {
      const confirmed = answer?.widget_state === true;
      if (confirmed) {
        this._confirm(documentId, key);
      }
      return confirmed;
    });
  }

  /**
   * Add to the question of this turn, and resolve with its answer (null if it failed).
   * `add` says false when the question already asks the same thing of other digests:
   * then it goes into the next question.
   */
  private _ask(
    documentId: string,
    add: (question: IPendingQuestion) => boolean
  ): Promise<ITrustAnswer | null> {
    let pending = this._pending.get(documentId);
    if (!pending) {
      pending = {
        cells: new Map(),
        models: new Map(),
        widgetState: null,
        answer: new PromiseDelegate<ITrustAnswer | null>()
      };
      this._pending.set(documentId, pending);
      const asked = pending;
      setTimeout(() => void this._send(documentId, asked), 0);
    }
    if (!add(pending)) {
      return pending.answer.promise.then(() => this._ask(documentId, add));
    }
    return pending.answer.promise;
  }

  private async _send(
    documentId: string,
    pending: IPendingQuestion
  ): Promise<void> {
    this._pending.delete(documentId);
    const question: ITrustQuestion = { document_id: documentId };
    if (pending.cells.size) {
      question.cells = [...pending.cells].map(([cellId, outputs]) => ({
        cell_id: cellId,
        outputs
      }));
    }
    if (pending.models.size) {
      question.widget_models = Object.fromEntries(pending.models);
    }
    if (pending.widgetState !== null) {
      question.widget_state = pending.widgetState;
    }
    try {
      pending.answer.resolve(await this._backend.verifyTrust(question));
    } catch (reason) {
      console.warn(
        'jupyterlab-collab-exec: the server could not confirm what this view shows; it is shown untrusted.',
        reason
      );
      pending.answer.resolve(null);
    }
  }

  private _confirmed(documentId: string): Set<string> {
    let confirmed = this._confirmations.get(documentId);
    if (!confirmed) {
      confirmed = new Set();
      this._confirmations.set(documentId, confirmed);
    }
    return confirmed;
  }

  private _confirm(documentId: string, key: string): void {
    const confirmed = this._confirmed(documentId);
    confirmed.add(key);
    if (confirmed.size > KEPT_CONFIRMATIONS) {
      // Sets keep insertion order: the oldest goes.
      const oldest = confirmed.values().next().value;
      if (oldest !== undefined) {
        confirmed.delete(oldest);
      }
    }
  }

  private _backend: ITrustBackend;
  private _enabled: Promise<boolean> | null = null;
  private _pending = new Map<string, IPendingQuestion>();
  private _confirmations = new Map<string, Set<string>>();
}

/**
 * The question being gathered for a document in this turn.
 */
interface IPendingQuestion {
  cells: Map<string, string[]>;
  models: Map<string, string>;
  widgetState: string | null;
  answer: PromiseDelegate<ITrustAnswer | null>;
}
