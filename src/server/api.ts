/**
 * The REST client of the server extension, over JupyterLab's `ServerConnection`: the
 * interfaces of backends.ts, implemented by HTTP calls.
 */
import { ServerConnection } from '@jupyterlab/services';

import { parsePerson } from '../doc/parse';
import type {
  CellVerdict,
  IAcceptedRequest,
  IExecuteBody,
  IExecutionBackend,
  IHistoryBackend,
  IHistoryQuery,
  IInputBackend,
  InputAnswer,
  IQueueBackend,
  IServerInfo,
  ITrustAnswer,
  ITrustBackend,
  ITrustQuestion,
  IWidgetValueBackend
} from './backends';
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
