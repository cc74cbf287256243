/**
 * What the views need from the server extension, one interface per use (executor, status
 * view, input box, trust, widget values, run history), and the bodies and answers they
 * exchange. `CollabExecClient` (api.ts) implements them over REST.
 */
import type { IPerson } from '../doc/schema';
import type { IRunDetail, IRunPage } from './runs';

/**
 * `GET /api/collab-exec`.
 */
export interface IServerInfo {
  version: string;
  features: string[];
}

/**
 * One cell of `POST /api/collab-exec/execute`.
 */
export interface IExecuteCell {
  cell_id: string;
  source?: string;
}

/**
 * The body of `POST /api/collab-exec/execute`.
 */
export interface IExecuteBody {
  document_id: string;
  kernel_id: string;
  cells: IExecuteCell[];
  record_timing?: boolean;
}

/**
 * One accepted request.
 */
export interface IAcceptedRequest {
  request_id: string;
  cell_id: string;
}

/**
 * What the executor needs from the server; `CollabExecClient` is the REST implementation.
 */
export interface IExecutionBackend {
  /**
   * Resolve with the server's info, or null when the server lacks the extension.
   */
  info(): Promise<IServerInfo | null>;

  /**
   * Queue cells for execution on the server.
   */
  execute(body: IExecuteBody): Promise<IAcceptedRequest[]>;
}

/**
 * The queue operations the status view needs; `CollabExecClient` is the REST implementation.
 */
export interface IQueueBackend {
  /**
   * Cancel queued requests of a document: the given ones, or all of them when
   * `requestIds` is left out. Resolves with the ids the server cancelled.
   */
  cancel(documentId: string, requestIds?: string[]): Promise<string[]>;
}

/**
 * What the server answered to `POST /api/collab-exec/input`: this answer reached the
 * kernel, or (409) someone else's answer did first, or the input was cancelled.
 */
export type InputAnswer =
  | { ok: true }
  | {
      ok: false;
      status: 'answered' | 'cancelled';
      /**
       * Who answered first, when the server says so.
       */
      answeredBy: IPerson | null;
      message: string;
    };

/**
 * What the input widget needs from the server; `CollabExecClient` is the REST
 * implementation.
 */
export interface IInputBackend {
  /**
   * Answer a pending input. Resolves with the outcome, also for a conflict (409);
   * rejects with a `ServerConnection.ResponseError` for other errors.
   */
  answerInput(
    documentId: string,
    inputId: string,
    value: string
  ): Promise<InputAnswer>;
}

/**
 * The body of `POST /api/collab-exec/trust`: the digests of what a view holds.
 */
export interface ITrustQuestion {
  document_id: string;
  cells?: Array<{ cell_id: string; outputs: string[] }>;
  widget_models?: Record<string, string>;
  widget_state?: string;
}

/**
 * What a cell's outputs are to the server: exactly what it wrote, not what it wrote, or
 * outputs of a cell that it never wrote.
 */
export type CellVerdict = 'trusted' | 'untrusted' | 'unknown';

/**
 * The answer of `POST /api/collab-exec/trust`.
 */
export interface ITrustAnswer {
  cells: Record<string, CellVerdict>;
  widget_models: Record<string, boolean>;
  widget_state: boolean | null;
}

/**
 * What trust needs from the server; `CollabExecClient` is the REST implementation.
 */
export interface ITrustBackend {
  /**
   * Resolve with the server's info, or null when the server lacks the extension.
   */
  info(): Promise<IServerInfo | null>;

  /**
   * Ask whether what a view holds is what the server wrote. Rejects on any error.
   */
  verifyTrust(question: ITrustQuestion): Promise<ITrustAnswer>;
}

/**
 * Where the bytes of large binary widget values come from: the doc refers to them by their
 * SHA-256 (`encoding: 'ref'`, `ref: 'sha256:<hex>'`), and the server keeps them out of the
 * doc's history.
 */
export interface IWidgetValueBackend {
  /**
   * The bytes of a value that a document's `collab_widgets` names. Rejects on any error.
   */
  widgetValue(documentId: string, digest: string): Promise<ArrayBuffer>;
}

/**
 * Which runs of a notebook's history to list.
 */
export interface IHistoryQuery {
  documentId: string;
  /** Only this cell's runs; every cell's when left out. */
  cellId?: string;
  /** Only the runs of the person with this username. */
  submittedBy?: string;
  /** The `next` of the previous page. */
  before?: string;
  limit?: number;
}

/**
 * What the history views need from the server; `CollabExecClient` is the REST
 * implementation. Each call rejects with a `ServerConnection.ResponseError` that carries
 * the server's message.
 */
export interface IHistoryBackend {
  /**
   * Resolve with the server's info, or null when the server lacks the extension.
   */
  info(): Promise<IServerInfo | null>;

  /**
   * A page of runs, newest first.
   */
  history(query: IHistoryQuery): Promise<IRunPage>;

  /**
   * One run with its outputs.
   */
  historyRun(documentId: string, runId: string): Promise<IRunDetail>;

  /**
   * Put a run's outputs back into its cell, for everyone.
   */
  restoreRun(documentId: string, cellId: string, runId: string): Promise<void>;
}
