/**
 * What the specs share: a stand-in for the server's side of the room (its own Y.Doc,
 * written as the server extension writes `collab_exec`), collaborative notebooks, a REST
 * client over a stubbed fetch, and small waiting helpers.
 */
import { Notification } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import { Notebook, NotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { ServerConnection } from '@jupyterlab/services';
import type { ISignal } from '@lumino/signaling';
import * as Y from 'yjs';

import { CollabExecClient } from '../server/api';
import type { IInputBackend, InputAnswer } from '../server/backends';
import type { TimeFormatter } from '../status/text';
import {
  INPUTS,
  type IPerson,
  type IRequestEntry,
  KERNEL,
  REQUESTS,
  ROOT,
  type RequestStatus
} from '../doc/schema';

export const DOCUMENT_ID = 'json:notebook:abc';
export const KERNEL_ID = 'kernel-1';
export const ALICE: IPerson = { username: 'alice', display_name: 'Alice' };
export const BOB: IPerson = { username: 'bob', display_name: 'Bob B.' };
export const HTML_PROMPT = '<img src=x onerror=alert(1)>';

/**
 * A deterministic clock format, so that labels do not depend on the machine's locale
 * and time zone: `t=<seconds>` (with `.s` when precise).
 */
export const testFormat: TimeFormatter = (time, _now, precise) =>
  precise ? `t=${time / 1000}.s` : `t=${time / 1000}`;

/**
 * A parsed request entry: queued by Alice on `KERNEL_ID`, for the cell `cell-<id>`.
 */
export function requestEntry(
  requestId: string,
  overrides: Partial<IRequestEntry> = {}
): IRequestEntry {
  return {
    request_id: requestId,
    cell_id: `cell-${requestId}`,
    kernel_id: KERNEL_ID,
    status: 'queued',
    submitted_by: ALICE,
    submitted_at: 1000,
    ...overrides
  };
}

/**
 * Let every pending promise callback run.
 */
export function drain(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, 0));
}

/**
 * Resolve once `condition` holds, checking at every macrotask; fail after `timeout`.
 */
export async function waitFor(
  condition: () => boolean,
  timeout = 5000
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('Timed out');
    }
    await new Promise(resolve => setTimeout(resolve, 5));
  }
}

/**
 * Track whether a promise has settled, and how.
 */
export function track<T>(promise: Promise<T>): {
  settled: boolean;
  value?: T;
  error?: unknown;
} {
  const state: { settled: boolean; value?: T; error?: unknown } = {
    settled: false
  };
  promise.then(
    value => {
      state.settled = true;
      state.value = value;
    },
    error => {
      state.settled = true;
      state.error = error;
    }
  );
  return state;
}

/**
 * Collect the notifications shown while `action` runs.
 */
export async function notificationsDuring(
  action: () => Promise<unknown>
): Promise<string[]> {
  const messages: string[] = [];
  const onNotification = (_sender: unknown, change: Notification.IChange) => {
    if (change.type === 'added') {
      messages.push(change.notification.message);
    }
  };
  const changed: ISignal<unknown, Notification.IChange> =
    Notification.manager.changed;
  changed.connect(onNotification);
  try {
    await action();
  } finally {
    changed.disconnect(onNotification);
  }
  return messages;
}

/**
 * @jupyter/ydoc builds new cells before they join the doc, and yjs warns about that
 * ("Invalid access", "Not same Y.Doc") once per cell. Silence only those known messages,
 * only while cells are inserted.
 */
export function withoutYjsWarnings(insert: () => void): void {
  const original = console.warn;
  const spy = jest.spyOn(console, 'warn').mockImplementation((...args) => {
    const text = args.map(String).join(' ');
    if (
      text.includes('Invalid access: Add Yjs type to a document') ||
      text.includes('Not same Y.Doc')
    ) {
      return;
    }
    original(...args);
  });
  try {
    insert();
  } finally {
    spy.mockRestore();
  }
}

/* ------------------------------------------------------------------------------------
 * Docs.
 * ---------------------------------------------------------------------------------- */

/**
 * Send what `to` lacks from `from`, as the collaboration websocket would.
 */
export function syncInto(to: Y.Doc, from: Y.Doc): void {
  Y.applyUpdate(
    to,
    Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)),
    'remote'
  );
}

/**
 * Bring two docs to the same state.
 */
export function exchange(a: Y.Doc, b: Y.Doc): void {
  syncInto(a, b);
  syncInto(b, a);
}

/**
 * A child map of `collab_exec` (`requests`, `inputs`, `kernel`), created if missing.
 */
export function childMap(doc: Y.Doc, name: string): Y.Map<unknown> {
  const root = doc.getMap<unknown>(ROOT);
  let child = root.get(name);
  if (!(child instanceof Y.Map)) {
    child = new Y.Map<unknown>();
    root.set(name, child);
  }
  return child as Y.Map<unknown>;
}

/**
 * Fields of an entry as the server writes them; `undefined` leaves a key out.
 */
export type EntryFields = Record<string, unknown>;

function setFields(map: Y.Map<unknown>, fields: EntryFields): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) {
      map.set(key, value);
    }
  }
}

/**
 * Write a new entry into a child map of `collab_exec`, as one Y.Map, in one transaction.
 */
export function writeEntry(
  doc: Y.Doc,
  name: string,
  id: string,
  fields: EntryFields
): Y.Map<unknown> {
  const entry = new Y.Map<unknown>();
  doc.transact(() => {
    childMap(doc, name).set(id, entry);
    setFields(entry, fields);
  });
  return entry;
}

/**
 * An entry of a child map of `collab_exec`.
 */
export function entryOf(doc: Y.Doc, name: string, id: string): Y.Map<unknown> {
  const entry = childMap(doc, name).get(id);
  if (!(entry instanceof Y.Map)) {
    throw new Error(`no entry ${id} in ${name}`);
  }
  return entry as Y.Map<unknown>;
}

/**
 * Change fields of an entry in one transaction.
 */
export function updateEntry(
  doc: Y.Doc,
  name: string,
  id: string,
  fields: EntryFields
): void {
  doc.transact(() => {
    setFields(entryOf(doc, name, id), fields);
  });
}

/**
 * Write `collab_exec.kernel` anew.
 */
export function writeKernel(doc: Y.Doc, fields: EntryFields): void {
  doc.transact(() => {
    const kernel = new Y.Map<unknown>();
    doc.getMap<unknown>(ROOT).set(KERNEL, kernel);
    setFields(kernel, fields);
  });
}

/**
 * A request entry as the server writes it.
 */
export interface IWrittenRequest {
  cell_id: string;
  status?: RequestStatus;
  kernel_id?: string;
  submitted_by?: IPerson;
  submitted_at?: number;
  started_at?: number;
  finished_at?: number;
  execution_count?: number;
  reason?: string;
}

/**
 * An input entry as the server writes it.
 */
export interface IWrittenInput {
  request_id?: string;
  cell_id: string;
  prompt?: string;
  password?: boolean;
}

/**
 * The server's side of the room: its own Y.Doc, written as the server extension writes
 * `collab_exec` (execution/ledger.py, inputs/records.py); `syncInto` delivers its updates.
 */
export class ServerDoc {
  readonly doc = new Y.Doc();

  /**
   * Queue requests in one transaction, as the server does for one batch: random ids,
   * inserted in the order given, with `submitted_at` stamps that strictly increase from
   * `submittedAt` as the server's acceptance clock makes them. Returns the ids.
   */
  queue(requests: IWrittenRequest[], submittedAt = 1000): string[] {
    const ids: string[] = [];
    this.doc.transact(() => {
      requests.forEach((request, index) => {
        // Random ids, so that id order says nothing about queue order.
        const requestId = `${Math.random().toString(16).slice(2)}-${index}`;
        ids.push(requestId);
        writeEntry(this.doc, REQUESTS, requestId, {
          kernel_id: KERNEL_ID,
          status: 'queued',
          submitted_by: ALICE,
          submitted_at: submittedAt + index * 0.001,
          ...request
        });
      });
    });
    return ids;
  }

  /**
   * A request waiting for input, with a known id.
   */
  addRequest(
    requestId: string,
    cellId: string,
    submittedBy: IPerson = ALICE,
    submittedAt = 1000
  ): void {
    writeEntry(this.doc, REQUESTS, requestId, {
      cell_id: cellId,
      kernel_id: KERNEL_ID,
      status: 'awaiting_input',
      submitted_by: submittedBy,
      submitted_at: submittedAt
    });
  }

  update(requestId: string, fields: Partial<IWrittenRequest>): void {
    updateEntry(this.doc, REQUESTS, requestId, fields);
  }

  remove(requestId: string): void {
    childMap(this.doc, REQUESTS).delete(requestId);
  }

  setKernel(executionState: string, kernelId = KERNEL_ID): void {
    this.doc.transact(() => {
      setFields(childMap(this.doc, KERNEL), {
        kernel_id: kernelId,
        execution_state: executionState
      });
    });
  }

  addInput(inputId: string, fields: IWrittenInput): void {
    writeEntry(this.doc, INPUTS, inputId, {
      request_id: fields.request_id ?? 'r1',
      cell_id: fields.cell_id,
      prompt: fields.prompt ?? 'Name?',
      password: fields.password ?? false,
      value: new Y.Text(),
      status: 'pending'
    });
  }

  /**
   * What the server does when an answer wins: the value (never a password's) into the
   * Text, and the entry settled.
   */
  answer(inputId: string, value: string | null, by: IPerson = BOB): void {
    this.doc.transact(() => {
      const text = this.text(inputId);
      if (value === null) {
        text.delete(0, text.length);
      } else if (text.toString() !== value) {
        text.delete(0, text.length);
        text.insert(0, value);
      }
      updateEntry(this.doc, INPUTS, inputId, {
        status: 'answered',
        answered_by: by,
        answered_at: 2000
      });
    });
  }

  cancel(inputId: string): void {
    this.entry(inputId).set('status', 'cancelled');
  }

  /**
   * An input entry.
   */
  entry(inputId: string): Y.Map<unknown> {
    return entryOf(this.doc, INPUTS, inputId);
  }

  /**
   * The shared `value` Text of an input entry.
   */
  text(inputId: string): Y.Text {
    return this.entry(inputId).get('value') as Y.Text;
  }

  /**
   * Send what `client` lacks, as a remote update.
   */
  syncInto(client: Y.Doc): void {
    syncInto(client, this.doc);
  }

  /**
   * A server copy that starts with what `client` holds, such as a notebook's cells.
   */
  static from(client: Y.Doc): ServerDoc {
    const server = new ServerDoc();
    syncInto(server.doc, client);
    return server;
  }
}

/* ------------------------------------------------------------------------------------
 * Notebooks.
 * ---------------------------------------------------------------------------------- */

/**
 * A collaborative notebook model with code cells, and a cell of another type at the end.
 */
export function createModel(
  sources: string[],
  last: 'markdown' | 'raw' = 'markdown'
): NotebookModel {
  const model = new NotebookModel({ collaborationEnabled: true });
  withoutYjsWarnings(() => {
    model.sharedModel.insertCells(0, [
      ...sources.map(source => ({ cell_type: 'code' as const, source })),
      { cell_type: last, source: last === 'markdown' ? '# Notes' : 'notes' }
    ]);
  });
  return model;
}

/**
 * A collaborative notebook in a notebook widget, and the server's copy of its room, which
 * starts with the notebook's cells.
 */
export function sharedNotebook(
  sources: string[],
  last?: 'markdown' | 'raw'
): { model: NotebookModel; notebook: Notebook; server: ServerDoc } {
  const model = createModel(sources, last);
  const notebook = NBTestUtils.createNotebook();
  notebook.model = model;
  return { model, notebook, server: ServerDoc.from(ydocOf(model)) };
}

/**
 * A jest fixture: before each test, `sharedNotebook(sources)`; after it, the notebook
 * widget and its model are disposed. `sync()` sends the server's updates to the
 * notebook's doc.
 */
export function useSharedNotebook(sources: string[]): {
  readonly model: NotebookModel;
  readonly notebook: Notebook;
  readonly server: ServerDoc;
  sync(): void;
} {
  let room: ReturnType<typeof sharedNotebook> | null = null;
  const current = () => {
    if (!room) {
      throw new Error('The shared notebook exists only during a test.');
    }
    return room;
  };
  beforeEach(() => {
    room = sharedNotebook(sources);
  });
  afterEach(() => {
    room?.notebook.dispose();
    room?.model.dispose();
    room = null;
  });
  return {
    get model() {
      return current().model;
    },
    get notebook() {
      return current().notebook;
    },
    get server() {
      return current().server;
    },
    sync: () => current().server.syncInto(ydocOf(current().model))
  };
}

export function ydocOf(model: NotebookModel): Y.Doc {
  return (model.sharedModel as unknown as { ydoc: Y.Doc }).ydoc;
}

export function cellId(cell: Cell): string {
  return cell.model.sharedModel.getId();
}

/**
 * A notebook widget that builds its cells on idle time, after it shows, as JupyterLab
 * does by default: cells start as placeholders.
 */
export function windowedNotebook(model: NotebookModel): Notebook {
  const notebook = new Notebook({
    rendermime: NBTestUtils.defaultRenderMime(),
    contentFactory: NBTestUtils.createNotebookFactory(),
    mimeTypeService: NBTestUtils.mimeTypeService,
    notebookConfig: {
      ...StaticNotebook.defaultNotebookConfig,
      windowingMode: 'contentVisibility'
    }
  });
  notebook.model = model;
  return notebook;
}

/**
 * Another fresh model and view filled from a notebook's room: what a reload, or a later
 * visitor, sees.
 */
export function reloaded(model: NotebookModel): {
  model: NotebookModel;
  view: Notebook;
} {
  const later = new NotebookModel({ collaborationEnabled: true });
  Y.applyUpdate(ydocOf(later), Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
  const view = NBTestUtils.createNotebook();
  view.model = later;
  return { model: later, view };
}

/* ------------------------------------------------------------------------------------
 * Input boxes.
 * ---------------------------------------------------------------------------------- */

/**
 * Type into an input as the browser would: change its value and caret, then fire
 * `input`.
 */
export function typeAt(
  input: HTMLInputElement,
  index: number,
  text: string,
  remove = 0
): void {
  const value = input.value;
  input.value = value.slice(0, index) + text + value.slice(index + remove);
  input.setSelectionRange(index + text.length, index + text.length);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

export function press(
  input: HTMLElement,
  key: string,
  modifiers: { ctrlKey?: boolean } = {}
): KeyboardEvent {
  const event = new KeyboardEvent('keydown', {
    key,
    bubbles: true,
    cancelable: true,
    ...modifiers
  });
  input.dispatchEvent(event);
  return event;
}

/**
 * Stands in for the REST API: records every answer, and answers as told.
 */
export class RecordingInputBackend implements IInputBackend {
  calls: Array<{ documentId: string; inputId: string; value: string }> = [];
  answer: InputAnswer = { ok: true };
  failure: Error | null = null;
  /**
   * When set, answers wait for it.
   */
  gate: Promise<void> | null = null;
  onAnswer: (() => void) | null = null;

  async answerInput(
    documentId: string,
    inputId: string,
    value: string
  ): Promise<InputAnswer> {
    this.calls.push({ documentId, inputId, value });
    this.onAnswer?.();
    if (this.gate) {
      await this.gate;
    }
    if (this.failure) {
      throw this.failure;
    }
    return this.answer;
  }
}

/**
 * The server's 409 to an answer: someone else answered first (with who, when the
 * server says), or the input was cancelled.
 */
export function conflict(
  status: 'answered' | 'cancelled',
  answeredBy: IPerson | null = null
): InputAnswer {
  const message =
    status === 'answered'
      ? 'This input was already answered.'
      : 'This input was cancelled.';
  return { ok: false, status, answeredBy, message };
}

/* ------------------------------------------------------------------------------------
 * REST.
 * ---------------------------------------------------------------------------------- */

/**
 * A request that reached the stubbed server.
 */
export interface ISent {
  url: string;
  method: string;
  body: unknown;
}

/**
 * The REST client over a fetch that records every request and gives one answer.
 */
export function stubClient(answer: { status: number; body: unknown }): {
  client: CollabExecClient;
  sent: ISent[];
} {
  const sent: ISent[] = [];
  const fetchStub = async (
    input: RequestInfo | URL,
    init?: RequestInit
  ): Promise<Response> => {
    const request = new Request(input, init);
    const text = await request.text();
    sent.push({
      url: request.url,
      method: request.method,
      body: text ? JSON.parse(text) : undefined
    });
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' }
    });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: fetchStub
  });
  return { client: new CollabExecClient(settings), sent };
}

/**
 * The URL of an endpoint, as the stubbed fetch sees it: ServerConnection appends a
 * cache-busting query.
 */
export function endpointUrl(endpoint: string): RegExp {
  const path = endpoint ? `api/collab-exec/${endpoint}` : 'api/collab-exec';
  return new RegExp(`^http://localhost:8888/${path}(\\?\\d+)?$`);
}
