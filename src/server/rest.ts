/**
 * The plumbing of the REST client: requests over JupyterLab's `ServerConnection`, their
 * JSON answers, and the errors that carry the server's message.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The prefix of every endpoint of the server extension.
 */
export const API_PREFIX = 'api/collab-exec';

/**
 * A response and its JSON body.
 */
export interface IAnswer {
  response: Response;
  data: unknown;
}

/**
 * The URL of an endpoint, its path parts encoded, with its query.
 */
export function endpointUrl(
  settings: ServerConnection.ISettings,
  parts: ReadonlyArray<string>,
  query: Record<string, string> = {}
): string {
  const url = URLExt.join(
    settings.baseUrl,
    API_PREFIX,
    ...parts.map(part => encodeURIComponent(part))
  );
  return Object.keys(query).length
    ? url + URLExt.objectToQueryString(query)
    : url;
}

/**
 * Send a request; a failure to reach the server becomes a `NetworkError`.
 */
export async function fetchResponse(
  settings: ServerConnection.ISettings,
  url: string,
  init: RequestInit
): Promise<Response> {
  try {
    return await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
}

/**
 * Send a request and read its JSON answer, whatever its status.
 */
export async function sendRequest(
  settings: ServerConnection.ISettings,
  url: string,
  init: RequestInit
): Promise<IAnswer> {
  const response = await fetchResponse(settings, url, init);
  return { response, data: await readJson(response) };
}

export async function readJson(response: Response): Promise<unknown> {
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

/**
 * An object's fields, or none for anything else.
 */
export function record(data: unknown): Record<string, unknown> {
  return data && typeof data === 'object'
    ? (data as Record<string, unknown>)
    : {};
}

export function errorMessage(data: unknown): string {
  const message = record(data).message;
  return typeof message === 'string' ? message : 'Unknown server error';
}

export function responseError(answer: IAnswer): ServerConnection.ResponseError {
  return new ServerConnection.ResponseError(
    answer.response,
    errorMessage(answer.data)
  );
}

/**
 * The body of a successful answer; rejects with the server's message for an error
 * status.
 */
export function okData(answer: IAnswer): unknown {
  if (!answer.response.ok) {
    throw responseError(answer);
  }
  return answer.data;
}

/**
 * A successful answer's body as read by `parse`; says so when it is malformed.
 */
export function parsedData<T>(
  answer: IAnswer,
  parse: (data: unknown) => T | null,
  what: string
): T {
  const parsed = parse(okData(answer));
  if (parsed === null) {
    throw new ServerConnection.ResponseError(
      answer.response,
      `Malformed answer from the server: no ${what}.`
    );
  }
  return parsed;
}

/**
 * The list under `key` of a successful answer. Rejects with the server's message for an
 * error status, and says so when the list is missing.
 */
export function listIn(answer: IAnswer, key: string, what: string): unknown[] {
  return parsedData(
    answer,
    data => {
      const list = record(data)[key];
      return Array.isArray(list) ? (list as unknown[]) : null;
    },
    what
  );
}
