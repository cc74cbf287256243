/**
 * The REST client of the server extension, over JupyterLab's `ServerConnection`, and the
 * interfaces through which the executor, the status view and the input widget use it.
 */
import { ServerConnection } from '@jupyterlab/services';

import { parsePerson } from '../doc/parse';
import type { IPerson } from '../doc/schema';
import {
  type IRunDetail,
  type IRunPage,
  parseRunDetail,
  parseRunPage
} from './runs';
import {
  endpointUrl,
  errorMessage,
  fetchResponse,
  type IAnswer,
  listIn,
  parsedData,
  readJson,
  record,
  responseError,
  sendRequest
} from './rest';

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

/**
 * The REST client of the server extension.
 */
export class CollabExecClient
  implements
    IExecutionBackend,
    IQueueBackend,
    IInputBackend,
    ITrustBackend,
    IWidgetValueBackend,
    IHistoryBackend
{
  constructor(serverSettings?: ServerConnection.ISettings) {
    this._serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  /**
   * The server's info, asked once: every caller shares the first answer.
   */
  info(): Promise<IServerInfo | null> {
    this._info ??= this._fetchInfo();
    return this._info;
  }

  async execute(body: IExecuteBody): Promise<IAcceptedRequest[]> {
    const answer = await this._post('execute', body);
    return listIn(answer, 'requests', 'requests') as IAcceptedRequest[];
  }

  async cancel(documentId: string, requestIds?: string[]): Promise<string[]> {
    const body: { document_id: string; request_ids?: string[] } = {
      document_id: documentId
    };
    if (requestIds !== undefined) {
      body.request_ids = requestIds;
    }
    const answer = await this._post('cancel', body);
    return listIn(answer, 'cancelled', 'cancelled requests').filter(
      (id): id is string => typeof id === 'string'
    );
  }

  async answerInput(
    documentId: string,
    inputId: string,
    value: string
  ): Promise<InputAnswer> {
    const answer = await this._post('input', {
      document_id: documentId,
      input_id: inputId,
      value
    });
    if (answer.response.ok) {
      return { ok: true };
    }
    const conflict = answer.response.status === 409 ? record(answer.data) : {};
    if (conflict.status === 'answered' || conflict.status === 'cancelled') {
      const answeredBy = parsePerson(conflict.answered_by);
      return {
        ok: false,
        status: conflict.status,
        answeredBy: answeredBy.display_name ? answeredBy : null,
        message: errorMessage(answer.data)
      };
    }
    throw responseError(answer);
  }

  async verifyTrust(question: ITrustQuestion): Promise<ITrustAnswer> {
    const answer = await this._post('trust', question);
    if (!answer.response.ok) {
      throw responseError(answer);
    }
    const data = record(answer.data);
    const verdicts = record(data.cells);
    const models = record(data.widget_models);
    const cells: Record<string, CellVerdict> = {};
    for (const [cellId, verdict] of Object.entries(verdicts)) {
      if (verdict === 'trusted' || verdict === 'unknown') {
        cells[cellId] = verdict;
      } else {
        cells[cellId] = 'untrusted';
      }
    }
    const widgetModels: Record<string, boolean> = {};
    for (const [modelId, confirmed] of Object.entries(models)) {
      widgetModels[modelId] = confirmed === true;
    }
    return {
      cells,
      widget_models: widgetModels,
      widget_state: data.widget_state === true
    };
  }

  async widgetValue(documentId: string, digest: string): Promise<ArrayBuffer> {
    const response = await fetchResponse(
      this._serverSettings,
      endpointUrl(this._serverSettings, ['widget-values', digest], {
        document_id: documentId
      }),
      { method: 'GET' }
    );
    if (!response.ok) {
      throw responseError({ response, data: await readJson(response) });
    }
    return response.arrayBuffer();
  }

  async history(query: IHistoryQuery): Promise<IRunPage> {
    const params: Record<string, string> = { document_id: query.documentId };
    if (query.cellId !== undefined) {
      params.cell_id = query.cellId;
    }
    if (query.submittedBy !== undefined) {
      params.submitted_by = query.submittedBy;
    }
    if (query.before !== undefined) {
      params.before = query.before;
    }
    if (query.limit !== undefined) {
      params.limit = String(query.limit);
    }
    const answer = await this._get(['history'], params);
    return parsedData(answer, parseRunPage, 'runs');
  }

  async historyRun(documentId: string, runId: string): Promise<IRunDetail> {
    const answer = await this._get(['history', runId], {
      document_id: documentId
    });
    return parsedData(answer, parseRunDetail, 'run');
  }

  async restoreRun(
    documentId: string,
    cellId: string,
    runId: string
  ): Promise<void> {
    const answer = await this._post('history/restore', {
      document_id: documentId,
      cell_id: cellId,
      run_id: runId
    });
    if (!answer.response.ok) {
      throw responseError(answer);
    }
  }

  private async _fetchInfo(): Promise<IServerInfo | null> {
    let answer: IAnswer;
    try {
      answer = await this._get([], {});
    } catch (error) {
      console.warn('jupyterlab-collab-exec: server unreachable', error);
      return null;
    }
    const data = record(answer.data);
    if (
      !answer.response.ok ||
      typeof data.version !== 'string' ||
      !Array.isArray(data.features)
    ) {
      return null;
    }
    return {
      version: data.version,
      features: data.features.filter(
        (feature): feature is string => typeof feature === 'string'
      )
    };
  }

  private _get(
    parts: ReadonlyArray<string>,
    query: Record<string, string>
  ): Promise<IAnswer> {
    return sendRequest(
      this._serverSettings,
      endpointUrl(this._serverSettings, parts, query),
      { method: 'GET' }
    );
  }

  private _post(endpoint: string, body: unknown): Promise<IAnswer> {
    return sendRequest(
      this._serverSettings,
      endpointUrl(this._serverSettings, endpoint.split('/')),
      { method: 'POST', body: JSON.stringify(body) }
    );
  }

  private _serverSettings: ServerConnection.ISettings;
  private _info: Promise<IServerInfo | null> | null = null;
}
