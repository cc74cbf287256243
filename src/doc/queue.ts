/**
 * The one definition of queue order: the order in which the server runs requests, and
 * where each queued request stands. Pure: no DOM, no doc.
 *
 * The server stamps `submitted_at` in strictly increasing acceptance order, within a
 * batch too, so ordering by it gives each kernel's FIFO order. The request id only makes
 * the order deterministic for entries with equal stamps, which only a tampering client
 * can write.
 */
import type { IRequestEntry } from './schema';

/**
 * Where a queued request stands in its kernel's queue.
 */
export interface IQueuePosition {
  /**
   * 1-based: 1 runs next.
   */
  position: number;
  /**
   * How many requests of that kernel are queued.
   */
  total: number;
}

/**
 * Compare two requests by queue order.
 */
export function compareQueueOrder(a: IRequestEntry, b: IRequestEntry): number {
  if (a.submitted_at !== b.submitted_at) {
    return a.submitted_at - b.submitted_at;
  }
  // Code units, not the locale: every browser must agree.
  return a.request_id < b.request_id ? -1 : a.request_id > b.request_id ? 1 : 0;
}

/**
 * The requests in queue order, oldest first, in a new array.
 */
export function queueOrder(
  entries: ReadonlyArray<IRequestEntry>
): IRequestEntry[] {
  return [...entries].sort(compareQueueOrder);
}

/**
 * The queue position of every queued request, counted per kernel.
 *
 * @param ordered - requests in queue order (see `queueOrder`).
 */
export function queuePositions(
  ordered: ReadonlyArray<IRequestEntry>
): Map<string, IQueuePosition> {
  const perKernel = new Map<string, string[]>();
  for (const entry of ordered) {
    if (entry.status !== 'queued') {
      continue;
    }
    const queue = perKernel.get(entry.kernel_id) ?? [];
    queue.push(entry.request_id);
    perKernel.set(entry.kernel_id, queue);
  }
  const positions = new Map<string, IQueuePosition>();
  for (const queue of perKernel.values()) {
    queue.forEach((requestId, index) => {
      positions.set(requestId, { position: index + 1, total: queue.length });
    });
  }
  return positions;
}

/**
 * The latest request of every cell.
 *
 * @param ordered - requests in queue order (see `queueOrder`).
 */
export function latestPerCell(
  ordered: ReadonlyArray<IRequestEntry>
): Map<string, IRequestEntry> {
  const latest = new Map<string, IRequestEntry>();
  for (const entry of ordered) {
    latest.set(entry.cell_id, entry);
  }
  return latest;
}

/**
 * How many requests are queued, for one kernel or (with `null`) in all.
 */
export function queuedCount(
  entries: ReadonlyArray<IRequestEntry>,
  kernelId: string | null = null
): number {
  return entries.filter(
    entry =>
      entry.status === 'queued' &&
      (kernelId === null || entry.kernel_id === kernelId)
  ).length;
}
