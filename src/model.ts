import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import * as Y from 'yjs';

import {
  FINAL_STATUSES,
  INPUT_STATUSES,
  INPUT_VALUE,
  INPUTS,
  type IInputEntry,
  type InputStatus,
  KERNEL,
  KERNEL_EXECUTION_STATES,
  type IKernelEntry,
  type IPerson,
  type IRequestEntry,
  REQUEST_STATUSES,
  REQUESTS,
  ROOT,
  type KernelExecutionState,
  type RequestStatus
} from './schema';

/**
 * A read-only view of the `collab_exec` map of one notebook's Y.Doc.
 *
 * Any client can write into a Y.Doc, so every value is checked before use.
 */
export class CollabExecModel implements IDisposable {
  constructor(ydoc: Y.Doc) {
    this._ydoc = ydoc;
    this._root = ydoc.getMap<unknown>(ROOT);
    this._root.observeDeep(this._onChange);
    ydoc.on('destroy', this._onDestroy);
  }

  /**
   * The model of a doc, shared by every view of that notebook.
   */
  static forDoc(ydoc: Y.Doc): CollabExecModel {
    let model = Private.models.get(ydoc);
    if (!model || model.isDisposed) {
      model = new CollabExecModel(ydoc);
      Private.models.set(ydoc, model);
    }
    return model;
  }

  /**
   * Emitted after any change under `collab_exec`.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  get ydoc(): Y.Doc {
    return this._ydoc;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._root.unobserveDeep(this._onChange);
    this._ydoc.off('destroy', this._onDestroy);
    for (const waiter of this._waiters) {
      waiter.resolve(null);
    }
    this._waiters.clear();
    Signal.clearData(this);
  }

  /**
   * The kernel state, if the server has written one.
   */
  get kernel(): IKernelEntry | null {
    const kernel = this._root.get(KERNEL);
    if (!(kernel instanceof Y.Map)) {
      return null;
    }
    const kernelId = kernel.get('kernel_id');
    const state = kernel.get('execution_state');
    if (typeof kernelId !== 'string' || !isKernelState(state)) {
      return null;
    }
    return { kernel_id: kernelId, execution_state: state };
  }

  /**
   * One request entry, or null if it is absent or malformed.
   */
  request(requestId: string): IRequestEntry | null {
    const requests = this._root.get(REQUESTS);
    if (!(requests instanceof Y.Map)) {
      return null;
    }
    return parseRequest(requestId, requests.get(requestId));
  }

  /**
   * Every well-formed request entry, oldest first.
   */
  requests(): IRequestEntry[] {
    const requests = this._root.get(REQUESTS);
    if (!(requests instanceof Y.Map)) {
      return [];
    }
    const entries: IRequestEntry[] = [];
    requests.forEach((value: unknown, requestId: string) => {
      const entry = parseRequest(requestId, value);
      if (entry) {
        entries.push(entry);
      }
    });
    return entries.sort(
      (a, b) =>
        a.submitted_at - b.submitted_at ||
        a.request_id.localeCompare(b.request_id)
    );
  }

  /**
   * The most recent request of a cell.
   */
  latestRequestForCell(cellId: string): IRequestEntry | null {
    const forCell = this.requests().filter(entry => entry.cell_id === cellId);
    return forCell.length ? forCell[forCell.length - 1] : null;
  }

  /**
   * One input entry, or null if it is absent or malformed.
   */
  input(inputId: string): IInputEntry | null {
    const inputs = this._inputsMap();
    return inputs ? parseInput(inputId, inputs.get(inputId)) : null;
  }

  /**
   * Every well-formed input entry, whatever its status, in the order of the map.
   */
  inputs(): IInputEntry[] {
    const inputs = this._inputsMap();
    if (!inputs) {
      return [];
    }
    const entries: IInputEntry[] = [];
    inputs.forEach((value: unknown, inputId: string) => {
      const entry = parseInput(inputId, value);
      if (entry) {
        entries.push(entry);
      }
    });
    return entries;
  }

  /**
   * The inputs that a cell's kernel waits for.
   */
  pendingInputsForCell(cellId: string): IInputEntry[] {
    return this.inputs().filter(
      entry => entry.cell_id === cellId && entry.status === 'pending'
    );
  }

  /**
   * The shared Text people type an input's answer into, or null when the entry is
   * malformed or has none. Never bind it for a password input: its value stays local.
   */
  inputValue(inputId: string): Y.Text | null {
    const inputs = this._inputsMap();
    const entry = inputs?.get(inputId);
    if (!(entry instanceof Y.Map) || !parseInput(inputId, entry)) {
      return null;
    }
    const text = entry.get(INPUT_VALUE);
    return text instanceof Y.Text ? text : null;
  }

  /**
   * Resolve with the final status of a request once the doc shows it, or null when the
   * model is disposed or the signal aborts first.
   */
  whenFinished(
    requestId: string,
    signal?: AbortSignal
  ): Promise<RequestStatus | null> {
    const current = this.request(requestId);
    if (current && FINAL_STATUSES.has(current.status)) {
      return Promise.resolve(current.status);
    }
    if (this._isDisposed || signal?.aborted) {
      return Promise.resolve(null);
    }
    return new Promise<RequestStatus | null>(resolve => {
      const waiter: Private.IWaiter = {
        requestId,
        seen: this._hasRequest(requestId),
        resolve: status => {
          this._waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          resolve(status);
        }
      };
      const onAbort = () => waiter.resolve(null);
      signal?.addEventListener('abort', onAbort);
      this._waiters.add(waiter);
    });
  }

  private _onChange = (): void => {
    for (const waiter of [...this._waiters]) {
      const entry = this.request(waiter.requestId);
      if (entry && FINAL_STATUSES.has(entry.status)) {
        waiter.resolve(entry.status);
      } else if (this._hasRequest(waiter.requestId)) {
        waiter.seen = true;
      } else if (waiter.seen) {
        // Pruned or removed before this client saw how it ended.
        waiter.resolve(null);
      }
    }
    this._changed.emit();
  };

  private _inputsMap(): Y.Map<unknown> | null {
    const inputs = this._root.get(INPUTS);
    return inputs instanceof Y.Map ? (inputs as Y.Map<unknown>) : null;
  }

  private _hasRequest(requestId: string): boolean {
    const requests = this._root.get(REQUESTS);
    return requests instanceof Y.Map && requests.has(requestId);
  }

  private _onDestroy = (): void => {
    this.dispose();
  };

  private _ydoc: Y.Doc;
  private _root: Y.Map<unknown>;
  private _isDisposed = false;
  private _changed = new Signal<this, void>(this);
  private _waiters = new Set<Private.IWaiter>();
}

function isRequestStatus(value: unknown): value is RequestStatus {
  return REQUEST_STATUSES.includes(value as RequestStatus);
}

function isInputStatus(value: unknown): value is InputStatus {
  return INPUT_STATUSES.includes(value as InputStatus);
}

function isKernelState(value: unknown): value is KernelExecutionState {
  return KERNEL_EXECUTION_STATES.includes(value as KernelExecutionState);
}

function parsePerson(value: unknown): IPerson {
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const username = typeof record.username === 'string' ? record.username : '';
    const displayName =
      typeof record.display_name === 'string' ? record.display_name : '';
    return { username, display_name: displayName || username };
  }
  return { username: '', display_name: '' };
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value)
    ? value
    : undefined;
}

/**
 * Read one entry of `collab_exec.requests`, or null if it is malformed.
 */
export function parseRequest(
  requestId: string,
  value: unknown
): IRequestEntry | null {
  if (!(value instanceof Y.Map)) {
    return null;
  }
  const cellId = value.get('cell_id');
  const kernelId = value.get('kernel_id');
  const status = value.get('status');
  const submittedAt = optionalNumber(value.get('submitted_at'));
  if (
    typeof cellId !== 'string' ||
    typeof kernelId !== 'string' ||
    !isRequestStatus(status) ||
    submittedAt === undefined
  ) {
    return null;
  }
  const entry: IRequestEntry = {
    request_id: requestId,
    cell_id: cellId,
    kernel_id: kernelId,
    status,
    submitted_by: parsePerson(value.get('submitted_by')),
    submitted_at: submittedAt
  };
  const startedAt = optionalNumber(value.get('started_at'));
  const finishedAt = optionalNumber(value.get('finished_at'));
  const executionCount = optionalNumber(value.get('execution_count'));
  if (startedAt !== undefined) {
    entry.started_at = startedAt;
  }
  if (finishedAt !== undefined) {
    entry.finished_at = finishedAt;
  }
  if (executionCount !== undefined) {
    entry.execution_count = executionCount;
  }
  return entry;
}

/**
 * Read one entry of `collab_exec.inputs`, or null if it is malformed.
 */
export function parseInput(
  inputId: string,
  value: unknown
): IInputEntry | null {
  if (!(value instanceof Y.Map)) {
    return null;
  }
  const requestId = value.get('request_id');
  const cellId = value.get('cell_id');
  const prompt = value.get('prompt');
  const password = value.get('password');
  const status = value.get('status');
  if (
    typeof requestId !== 'string' ||
    typeof cellId !== 'string' ||
    typeof prompt !== 'string' ||
    typeof password !== 'boolean' ||
    !isInputStatus(status)
  ) {
    return null;
  }
  const entry: IInputEntry = {
    input_id: inputId,
    request_id: requestId,
    cell_id: cellId,
    prompt,
    password,
    status
  };
  const answeredBy: unknown = value.get('answered_by');
  if (answeredBy !== undefined && answeredBy !== null) {
    entry.answered_by = parsePerson(answeredBy);
  }
  const answeredAt = optionalNumber(value.get('answered_at'));
  if (answeredAt !== undefined) {
    entry.answered_at = answeredAt;
  }
  return entry;
}

namespace Private {
  export interface IWaiter {
    requestId: string;
    seen: boolean;
    resolve: (status: RequestStatus | null) => void;
  }

  export const models = new WeakMap<Y.Doc, CollabExecModel>();
}
