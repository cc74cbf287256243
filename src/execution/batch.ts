/**
 * Batches: the cells of one JupyterLab run go to the server in one execute request.
 */
import type {
  IAcceptedRequest,
  IExecuteCell,
  IExecutionBackend
} from '../server/backends';

/**
 * One cell waiting to be sent to the server.
 */
export interface IBatchItem {
  documentId: string;
  kernelId: string;
  cell: IExecuteCell;
  recordTiming: boolean;
}

interface IPending {
  item: IBatchItem;
  resolve: (accepted: IAcceptedRequest) => void;
  reject: (reason: unknown) => void;
}

/**
 * Groups the cells that JupyterLab asks to run together into one execute request.
 *
 * JupyterLab's `runCells` calls the executor once per cell in a single synchronous loop.
 * Cells added before the next macrotask form one batch, so the server keeps their order
 * and cancels the rest of the batch after an error, as JupyterLab's stop-on-error does.
 * Batches are posted one after the other, so they reach the server in submission order.
 */
export class ExecutionBatcher {
  constructor(
    backend: IExecutionBackend,
    schedule: (flush: () => void) => void = flush => setTimeout(flush, 0)
  ) {
    this._backend = backend;
    this._schedule = schedule;
  }

  add(item: IBatchItem): Promise<IAcceptedRequest> {
    return new Promise<IAcceptedRequest>((resolve, reject) => {
      this._pending.push({ item, resolve, reject });
      if (!this._scheduled) {
        this._scheduled = true;
        this._schedule(() => this._flush());
      }
    });
  }

  private _flush(): void {
    this._scheduled = false;
    const groups = new Map<string, IPending[]>();
    for (const pending of this._pending) {
      const key = JSON.stringify([
        pending.item.documentId,
        pending.item.kernelId
      ]);
      const group = groups.get(key);
      if (group) {
        group.push(pending);
      } else {
        groups.set(key, [pending]);
      }
    }
    this._pending = [];
    for (const group of groups.values()) {
      this._chain = this._chain.then(() => this._post(group));
    }
  }

  private async _post(group: IPending[]): Promise<void> {
    const first = group[0].item;
    try {
      const accepted = await this._backend.execute({
        document_id: first.documentId,
        kernel_id: first.kernelId,
        cells: group.map(pending => pending.item.cell),
        record_timing: group.some(pending => pending.item.recordTiming)
      });
      if (accepted.length !== group.length) {
        throw new Error(
          `The server accepted ${accepted.length} of ${group.length} cells.`
        );
      }
      group.forEach((pending, index) => pending.resolve(accepted[index]));
    } catch (error) {
      for (const pending of group) {
        pending.reject(error);
      }
    }
  }

  private _backend: IExecutionBackend;
  private _schedule: (flush: () => void) => void;
  private _pending: IPending[] = [];
  private _scheduled = false;
  private _chain: Promise<void> = Promise.resolve();
}
