/**
 * The model over `collab_exec`: a validated, read-only view of the map, with
 * `whenFinished`, which resolves `runCell` from the doc rather than by polling.
 */
import type { IDisposable } from '@lumino/disposable';
import { type ISignal, Signal } from '@lumino/signaling';
import * as Y from 'yjs';

import { parseInput, parseKernel, parseRequest } from './parse';
import { queueOrder } from './queue';
import {
  FINAL_STATUSES,
  HISTORY,
  INPUT_VALUE,
  INPUTS,
  type IInputEntry,
  type IKernelEntry,
  type IRequestEntry,
  KERNEL,
  REQUESTS,
  ROOT,
  type RequestStatus
} from './schema';

/**
 * A read-only view of the `collab_exec` map of one notebook's Y.Doc.
 *
 * Any client can write into a Y.Doc, so every value goes through the readers of
 * `parse.ts` before use.
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
    return parseKernel(this._root.get(KERNEL));
  }

  /**
   * One request entry, or null if it is absent or malformed.
   */
  request(requestId: string): IRequestEntry | null {
    return parseRequest(requestId, this._child(REQUESTS)?.get(requestId));
  }

  /**
   * Every well-formed request entry, in queue order (oldest first).
   */
  requests(): IRequestEntry[] {
    return queueOrder(this._entries(REQUESTS, parseRequest));
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
    return parseInput(inputId, this._child(INPUTS)?.get(inputId));
  }

  /**
   * Every well-formed input entry, whatever its status, in the order of the map.
   */
  inputs(): IInputEntry[] {
    return this._entries(INPUTS, parseInput);
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
    const entry = this._child(INPUTS)?.get(inputId);
    if (!(entry instanceof Y.Map) || !parseInput(inputId, entry)) {
      return null;
    }
    const text = entry.get(INPUT_VALUE);
    return text instanceof Y.Text ? text : null;
  }

  /**
   * How many runs the server's history recorded of a cell, or of every cell, since the
   * doc started counting: it only grows, and views of the history refresh when it does.
   */
  recordedRuns(cellId?: string): number {
    let total = 0;
    this._child(HISTORY)?.forEach((count: unknown, id: string) => {
      if (
        (cellId === undefined || id === cellId) &&
        typeof count === 'number' &&
        Number.isFinite(count) &&
        count > 0
      ) {
        total += count;
      }
    });
    return total;
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

  /**
   * A child map of `collab_exec`, or null when it is absent or not a map.
   */
  private _child(name: string): Y.Map<unknown> | null {
    const child = this._root.get(name);
    return child instanceof Y.Map ? (child as Y.Map<unknown>) : null;
  }

  /**
   * The well-formed entries of a child map, in the order of the map.
   */
  private _entries<T>(
    name: string,
    parse: (id: string, value: unknown) => T | null
  ): T[] {
    const entries: T[] = [];
    this._child(name)?.forEach((value: unknown, id: string) => {
      const entry = parse(id, value);
      if (entry) {
        entries.push(entry);
      }
    });
    return entries;
  }

  private _hasRequest(requestId: string): boolean {
    return this._child(REQUESTS)?.has(requestId) ?? false;
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

namespace Private {
  export interface IWaiter {
    requestId: string;
    seen: boolean;
    resolve: (status: RequestStatus | null) => void;
  }

  export const models = new WeakMap<Y.Doc, CollabExecModel>();
}
