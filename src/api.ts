import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IPerson } from './schema';

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
 * The REST client of the server extension.
 */
export class CollabExecClient
  implements IExecutionBackend, IQueueBackend, IInputBackend
{
  constructor(serverSettings?: ServerConnection.ISettings) {
    this._serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  async info(): Promise<IServerInfo | null> {
    let response: Response;
    try {
      response = await this._request('', { method: 'GET' });
    } catch (error) {
      console.warn('jupyterlab-collab-exec: server unreachable', error);
      return null;
    }
    if (!response.ok) {
      return null;
    }
    const data = (await readJson(response)) as Partial<IServerInfo>;
    if (typeof data.version !== 'string' || !Array.isArray(data.features)) {
      return null;
    }
    return {
      version: data.version,
      features: data.features.filter(
        (feature): feature is string => typeof feature === 'string'
      )
    };
  }

  async execute(body: IExecuteBody): Promise<IAcceptedRequest[]> {
    const response = await this._request('execute', {
      method: 'POST',
      body: JSON.stringify(body)
    });
    const data = await readJson(response);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response, errorMessage(data));
    }
    const requests = (data as { requests?: unknown }).requests;
    if (!Array.isArray(requests)) {
      throw new ServerConnection.ResponseError(
        response,
        'Malformed answer from the server: no requests.'
      );
    }
    return requests as IAcceptedRequest[];
  }

  async cancel(documentId: string, requestIds?: string[]): Promise<string[]> {
    const body: { document_id: string; request_ids?: string[] } = {
      document_id: documentId
    };
    if (requestIds !== undefined) {
      body.request_ids = requestIds;
    }
    const response = await this._request('cancel', {
      method: 'POST',
      body: JSON.stringify(body)
    });
    const data = await readJson(response);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response, errorMessage(data));
    }
    const cancelled = (data as { cancelled?: unknown }).cancelled;
    if (!Array.isArray(cancelled)) {
      throw new ServerConnection.ResponseError(
        response,
        'Malformed answer from the server: no cancelled requests.'
      );
    }
    return cancelled.filter((id): id is string => typeof id === 'string');
  }

  async answerInput(
    documentId: string,
    inputId: string,
    value: string
  ): Promise<InputAnswer> {
    const response = await this._request('input', {
      method: 'POST',
      body: JSON.stringify({
        document_id: documentId,
        input_id: inputId,
        value
      })
    });
    const data = await readJson(response);
    if (response.ok) {
      return { ok: true };
    }
    if (response.status === 409) {
      const conflict = (data && typeof data === 'object' ? data : {}) as {
        status?: unknown;
        answered_by?: unknown;
      };
      if (conflict.status === 'answered' || conflict.status === 'cancelled') {
        return {
          ok: false,
          status: conflict.status,
          answeredBy: parsePerson(conflict.answered_by),
          message: errorMessage(data)
        };
      }
    }
    throw new ServerConnection.ResponseError(response, errorMessage(data));
  }

  private async _request(
    endpoint: string,
    init: RequestInit
  ): Promise<Response> {
    const url = URLExt.join(
      this._serverSettings.baseUrl,
      'api/collab-exec',
      endpoint
    );
    try {
      return await ServerConnection.makeRequest(
        url,
        init,
        this._serverSettings
      );
    } catch (error) {
      throw new ServerConnection.NetworkError(error as TypeError);
    }
  }

  private _serverSettings: ServerConnection.ISettings;
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

function parsePerson(value: unknown): IPerson | null {
  if (!value || typeof value !== 'object') {
    return null;
  }
  const record = value as Record<string, unknown>;
  const username = typeof record.username === 'string' ? record.username : '';
  const displayName =
    typeof record.display_name === 'string' ? record.display_name : '';
  return username || displayName
    ? { username, display_name: displayName || username }
    : null;
}

function errorMessage(data: unknown): string {
  const message =
    data && typeof data === 'object'
      ? (data as { message?: unknown }).message
      : undefined;
  return typeof message === 'string' ? message : 'Unknown server error';
}
