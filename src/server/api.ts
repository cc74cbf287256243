/**
 * The REST client of the server extension, over JupyterLab's `ServerConnection`, and the
 * interfaces through which the executor, the status view and the input widget use it.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { parsePerson } from '../doc/parse';
import type { IPerson } from '../doc/schema';

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
 * The REST client of the server extension.
 */
export class CollabExecClient
  implements
    IExecutionBackend,
    IQueueBackend,
    IInputBackend,
    ITrustBackend,
    IWidgetValueBackend
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
    const url = URLExt.join(
      this._serverSettings.baseUrl,
      'api/collab-exec/widget-values',
      encodeURIComponent(digest)
    );
    const query = URLExt.objectToQueryString({ document_id: documentId });
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url + query,
        { method: 'GET' },
        this._serverSettings
      );
    } catch (error) {
      throw new ServerConnection.NetworkError(error as TypeError);
    }
    if (!response.ok) {
      throw responseError({ response, data: await readJson(response) });
    }
    return response.arrayBuffer();
  }

  private async _fetchInfo(): Promise<IServerInfo | null> {
    let answer: IAnswer;
    try {
      answer = await this._send('', { method: 'GET' });
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

  private _post(endpoint: string, body: unknown): Promise<IAnswer> {
    return this._send(endpoint, {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  /**
   * Send a request and read its answer, whatever its status.
   */
  private async _send(endpoint: string, init: RequestInit): Promise<IAnswer> {
    const url = URLExt.join(
      this._serverSettings.baseUrl,
      'api/collab-exec',
      endpoint
    );
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        url,
        init,
        this._serverSettings
      );
    } catch (error) {
      throw new ServerConnection.NetworkError(error as TypeError);
    }
    return { response, data: await readJson(response) };
  }

  private _serverSettings: ServerConnection.ISettings;
  private _info: Promise<IServerInfo | null> | null = null;
}

/**
 * A response and its JSON body.
 */
interface IAnswer {
  response: Response;
  data: unknown;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) {
    return {};
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text };
  }
}

function record(data: unknown): Record<string, unknown> {
  return data && typeof data === 'object'
    ? (data as Record<string, unknown>)
    : {};
}

function errorMessage(data: unknown): string {
  const message = record(data).message;
  return typeof message === 'string' ? message : 'Unknown server error';
}

function responseError(answer: IAnswer): ServerConnection.ResponseError {
  return new ServerConnection.ResponseError(
    answer.response,
    errorMessage(answer.data)
  );
}

/**
 * The list under `key` of a successful answer. Rejects with the server's message for an
 * error status, and says so when the list is missing.
 */
function listIn(answer: IAnswer, key: string, what: string): unknown[] {
  if (!answer.response.ok) {
    throw responseError(answer);
  }
  const list = record(answer.data)[key];
  if (!Array.isArray(list)) {
    throw new ServerConnection.ResponseError(
      answer.response,
      `Malformed answer from the server: no ${what}.`
    );
  }
  return list;
}
