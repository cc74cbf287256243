// The tests compare the English texts that the widgets show.
/* eslint-disable jupyter/no-untranslated-string */
import { Notification } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import { Notebook, NotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import type { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as Y from 'yjs';

import { CollabExecClient, type IQueueBackend, type IServerInfo } from '../api';
import { CollabExecModel } from '../model';
import {
  type IRequestEntry,
  KERNEL,
  REQUESTS,
  ROOT,
  type RequestStatus
} from '../schema';
import {
  BADGE_CLASS,
  badgeState,
  CellStatusBadge,
  CellStatusTracker,
  formatDuration,
  formatTime,
  insertionRanks,
  latestPerCell,
  orderedRequests,
  queuedCount,
  queueOrder,
  queuePositions,
  StatusConfig,
  statusClass,
  TICK_INTERVAL,
  type TimeFormatter
} from '../status';
import { QueueToolbarItem, queueSummary } from '../toolbar';

const DOCUMENT_ID = 'json:notebook:abc';
const KERNEL_ID = 'kernel-1';
const trans = nullTranslator.load('jupyterlab-collab-exec');

/**
 * A deterministic clock format, so that labels do not depend on the machine's locale
 * and time zone: `t=<seconds>` (with `.s` when precise).
 */
const testFormat: TimeFormatter = (time, _now, precise) =>
  precise ? `t=${time / 1000}.s` : `t=${time / 1000}`;

const ALICE = { username: 'alice', display_name: 'Alice' };
const BOB = { username: 'bob', display_name: 'Bob B.' };

function entry(
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
function drain(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, 0));
}

/**
 * @jupyter/ydoc builds new cells before they join the doc, and yjs warns about that
 * ("Invalid access", "Not same Y.Doc") once per cell. Silence only those known messages,
 * only while cells are inserted.
 */
function withoutYjsWarnings(insert: () => void): void {
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
 * The server's side of the room: a separate Y.Doc whose updates reach the notebook's doc
 * with Y.applyUpdate, as the collaboration websocket delivers them.
 * ---------------------------------------------------------------------------------- */

interface IWrittenRequest {
  cell_id: string;
  status?: RequestStatus;
  kernel_id?: string;
  submitted_by?: { username: string; display_name: string };
  submitted_at?: number;
  started_at?: number;
  finished_at?: number;
  execution_count?: number;
}

class ServerDoc {
  readonly doc = new Y.Doc();

  /**
   * Queue requests in one transaction, as the server does for one batch: same
   * `submitted_at`, random ids, inserted in the order given. Returns the ids.
   */
  queue(requests: IWrittenRequest[], submittedAt = 1000): string[] {
    const ids: string[] = [];
    this.doc.transact(() => {
      for (const request of requests) {
        // Random ids, so that id order says nothing about queue order.
        const requestId = `${Math.random().toString(16).slice(2)}-${ids.length}`;
        ids.push(requestId);
        const map = new Y.Map<unknown>();
        this._requests().set(requestId, map);
        const fields: Record<string, unknown> = {
          kernel_id: KERNEL_ID,
          status: 'queued',
          submitted_by: ALICE,
          submitted_at: submittedAt,
          ...request
        };
        for (const [key, value] of Object.entries(fields)) {
          map.set(key, value);
        }
      }
    });
    return ids;
  }

  update(requestId: string, fields: Partial<IWrittenRequest>): void {
    this.doc.transact(() => {
      const map = this._requests().get(requestId) as Y.Map<unknown>;
      for (const [key, value] of Object.entries(fields)) {
        map.set(key, value);
      }
    });
  }

  remove(requestId: string): void {
    this._requests().delete(requestId);
  }

  setKernel(executionState: string, kernelId = KERNEL_ID): void {
    this.doc.transact(() => {
      const root = this.doc.getMap<unknown>(ROOT);
      let kernel = root.get(KERNEL);
      if (!(kernel instanceof Y.Map)) {
        kernel = new Y.Map<unknown>();
        root.set(KERNEL, kernel);
      }
      (kernel as Y.Map<unknown>).set('kernel_id', kernelId);
      (kernel as Y.Map<unknown>).set('execution_state', executionState);
    });
  }

  /**
   * Send what `client` lacks, as a remote update.
   */
  syncInto(client: Y.Doc): void {
    Y.applyUpdate(
      client,
      Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(client)),
      'remote'
    );
  }

  private _requests(): Y.Map<unknown> {
    const root = this.doc.getMap<unknown>(ROOT);
    let requests = root.get(REQUESTS);
    if (!(requests instanceof Y.Map)) {
      requests = new Y.Map<unknown>();
      root.set(REQUESTS, requests);
    }
    return requests as Y.Map<unknown>;
  }
}

/* ------------------------------------------------------------------------------------
 * Pure logic.
 * ---------------------------------------------------------------------------------- */

describe('queueOrder', () => {
  it('orders by submission time, then by insertion rank', () => {
    const ranks: Record<string, number> = { z: 0, a: 1, m: 2 };
    const ordered = queueOrder(
      [
        entry('later', { submitted_at: 2000 }),
        entry('a'),
        entry('m'),
        entry('z')
      ],
      id => ranks[id] ?? 99
    );
    expect(ordered.map(e => e.request_id)).toEqual(['z', 'a', 'm', 'later']);
  });

  it('falls back to the request id without ranks, and copies its input', () => {
    const input = [entry('b'), entry('a')];
    expect(queueOrder(input).map(e => e.request_id)).toEqual(['a', 'b']);
    expect(input.map(e => e.request_id)).toEqual(['b', 'a']);
  });
});

describe('queuePositions', () => {
  it('counts the queued requests of each kernel, 1-based, in order', () => {
    const positions = queuePositions([
      entry('done', { status: 'ok' }),
      entry('run', { status: 'running' }),
      entry('q1'),
      entry('other', { kernel_id: 'kernel-2' }),
      entry('q2'),
      entry('cancel', { status: 'cancelled' }),
      entry('q3')
    ]);
    expect(Object.fromEntries(positions)).toEqual({
      q1: { position: 1, total: 3 },
      q2: { position: 2, total: 3 },
      q3: { position: 3, total: 3 },
      other: { position: 1, total: 1 }
    });
  });

  it('is empty when nothing is queued', () => {
    expect(queuePositions([entry('a', { status: 'running' })]).size).toBe(0);
  });
});

describe('latestPerCell and queuedCount', () => {
  it('keep the last request of every cell', () => {
    const latest = latestPerCell([
      entry('first', { cell_id: 'c1', status: 'ok' }),
      entry('other', { cell_id: 'c2', status: 'error' }),
      entry('second', { cell_id: 'c1', status: 'queued' })
    ]);
    expect(latest.get('c1')?.request_id).toBe('second');
    expect(latest.get('c2')?.request_id).toBe('other');
    expect(latest.size).toBe(2);
  });

  it('count queued requests, of one kernel or of all', () => {
    const entries = [
      entry('a'),
      entry('b', { kernel_id: 'kernel-2' }),
      entry('c', { status: 'running' })
    ];
    expect(queuedCount(entries)).toBe(2);
    expect(queuedCount(entries, KERNEL_ID)).toBe(1);
    expect(queuedCount(entries, 'kernel-3')).toBe(0);
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [999, '0s'],
    [1000, '1s'],
    [59_999, '59s'],
    [60_000, '1m 00s'],
    [65_000, '1m 05s'],
    [3_599_000, '59m 59s'],
    [3_600_000, '1h 00m'],
    [7_380_000, '2h 03m'],
    [-5000, '0s']
  ])('formats %p ms as %p', (ms, text) => {
    expect(formatDuration(ms, trans)).toBe(text);
  });
});

describe('formatTime', () => {
  it('shows the time of day, and the date only for another day', () => {
    const now = new Date(2024, 4, 17, 15, 30).getTime();
    const sameDay = new Date(2024, 4, 17, 12, 3, 9).getTime();
    const otherDay = new Date(2023, 0, 2, 12, 3, 9).getTime();
    expect(formatTime(sameDay, now, false)).toMatch(/12.03/);
    expect(formatTime(sameDay, now, false)).not.toMatch(/2024/);
    expect(formatTime(sameDay, now, true)).toMatch(/12.03.09/);
    expect(formatTime(otherDay, now, false)).toMatch(/2023/);
  });
});

describe('statusClass', () => {
  it('turns statuses into CSS modifiers', () => {
    expect(statusClass('queued')).toBe('queued');
    expect(statusClass('awaiting_input')).toBe('awaitingInput');
  });
});

describe('badgeState', () => {
  const options = { now: 20_000, trans, formatTime: testFormat };

  it('shows the queue position of a queued request', () => {
    const state = badgeState(entry('a'), {
      ...options,
      queue: { position: 2, total: 3 }
    });
    expect(state).toEqual({
      status: 'queued',
      label: 'Queued (2 of 3)',
      elapsed: null,
      title: "Queued by Alice at t=1.s. Position 2 of 3 in the kernel's queue."
    });
  });

  it('shows a queued request without a known position', () => {
    expect(badgeState(entry('a'), options).label).toBe('Queued');
  });

  it('shows who runs a request and for how long', () => {
    const state = badgeState(
      entry('a', { status: 'running', started_at: 8_000, submitted_by: BOB }),
      options
    );
    expect(state.label).toBe('Running · Bob B.');
    expect(state.elapsed).toBe('12s');
    expect(state.title).toBe('Running since t=8.s (12s), run by Bob B..');
  });

  it('counts the running time from the submission when the start is unknown', () => {
    const state = badgeState(entry('a', { status: 'running' }), options);
    expect(state.elapsed).toBe('19s');
  });

  it('shows who waits for input', () => {
    const state = badgeState(
      entry('a', { status: 'awaiting_input', started_at: 3000 }),
      options
    );
    expect(state.label).toBe('Waiting for input · Alice');
    expect(state.elapsed).toBeNull();
    expect(state.title).toBe(
      'Waiting for input; run by Alice. Started at t=3.s.'
    );
  });

  it('shows who ran a cell and when', () => {
    const state = badgeState(
      entry('a', {
        status: 'ok',
        started_at: 2000,
        finished_at: 14_000,
        execution_count: 7
      }),
      options
    );
    expect(state).toEqual({
      status: 'ok',
      label: 'Run by Alice · t=14',
      elapsed: null,
      title:
        'Run by Alice, finished at t=14.s. It took 12s. Execution count: 7.'
    });
    expect(state.label).toMatch(/run by Alice/i);
  });

  it('shows a failed run with who ran it', () => {
    const state = badgeState(
      entry('a', { status: 'error', finished_at: 5000, submitted_by: BOB }),
      options
    );
    expect(state.label).toBe('Failed · Run by Bob B. · t=5');
    expect(state.title).toBe('Run by Bob B., failed at t=5.s.');
  });

  it('shows cancelled and interrupted requests', () => {
    expect(badgeState(entry('a', { status: 'cancelled' }), options)).toEqual({
      status: 'cancelled',
      label: 'Cancelled',
      elapsed: null,
      title: 'Cancelled before it ran. It was queued by Alice at t=1.s.'
    });
    const interrupted = badgeState(
      entry('a', { status: 'interrupted', started_at: 4000 }),
      options
    );
    expect(interrupted.label).toBe('Interrupted');
    expect(interrupted.title).toBe(
      'Interrupted; run by Alice. Started at t=4.s.'
    );
  });

  it('names an unknown user when the entry has no name', () => {
    const state = badgeState(
      entry('a', {
        status: 'ok',
        submitted_by: { username: '', display_name: '' }
      }),
      options
    );
    expect(state.label).toBe('Run by an unknown user · t=1');
  });

  it('gives every status a label', () => {
    const statuses: RequestStatus[] = [
      'queued',
      'running',
      'awaiting_input',
      'ok',
      'error',
      'cancelled',
      'interrupted'
    ];
    for (const status of statuses) {
      const state = badgeState(entry('a', { status }), options);
      expect(state.status).toBe(status);
      expect(state.label).not.toBe('');
      expect(state.title).not.toBe('');
    }
  });
});

describe('queueSummary', () => {
  it('shows the kernel state and the queue length', () => {
    expect(
      queueSummary({ kernel_id: KERNEL_ID, execution_state: 'busy' }, 2, trans)
    ).toEqual({
      state: 'busy',
      kernelLabel: 'Busy',
      queued: 2,
      queueLabel: '2 queued',
      title: 'Server execution. Kernel state: Busy. 2 cells are queued.'
    });
    expect(queueSummary(null, 1, trans).title).toBe(
      'Server execution. Kernel state: Unknown. 1 cell is queued.'
    );
    expect(
      queueSummary({ kernel_id: KERNEL_ID, execution_state: 'idle' }, 0, trans)
    ).toMatchObject({
      state: 'idle',
      kernelLabel: 'Idle',
      queueLabel: 'Queue empty'
    });
  });
});

/* ------------------------------------------------------------------------------------
 * The doc.
 * ---------------------------------------------------------------------------------- */

describe('insertionRanks and orderedRequests', () => {
  it('keep the order of a batch, also in a doc that received it as an update', () => {
    const server = new ServerDoc();
    const batch = server.queue(
      ['c1', 'c2', 'c3', 'c4', 'c5'].map(cell_id => ({ cell_id }))
    );
    const earlier = server.queue([{ cell_id: 'c0' }], 500);
    const client = new Y.Doc();
    server.syncInto(client);

    for (const doc of [server.doc, client]) {
      const ranks = insertionRanks(doc);
      expect(batch.map(id => ranks.get(id))).toEqual([0, 1, 2, 3, 4]);
      const model = new CollabExecModel(doc);
      expect(orderedRequests(model).map(e => e.request_id)).toEqual([
        ...earlier,
        ...batch
      ]);
      model.dispose();
    }
  });

  it('are empty for a doc without requests', () => {
    expect(insertionRanks(new Y.Doc()).size).toBe(0);
  });
});

/* ------------------------------------------------------------------------------------
 * Widgets.
 * ---------------------------------------------------------------------------------- */

describe('CellStatusBadge', () => {
  it('is hidden until it has a state, with a class and data attribute per state', () => {
    const badge = new CellStatusBadge();
    expect(badge.hasClass(BADGE_CLASS)).toBe(true);
    expect(badge.isHidden).toBe(true);
    expect(badge.node.getAttribute('role')).toBe('status');
    expect(badge.node.getAttribute('aria-live')).toBe('polite');

    badge.render({
      status: 'running',
      label: 'Running · Alice',
      elapsed: '3s',
      title: 'details'
    });
    expect(badge.isHidden).toBe(false);
    expect(badge.node.textContent).toBe('Running · Alice · 3s');
    expect(badge.node.dataset.status).toBe('running');
    expect(badge.node.title).toBe('details');
    expect(badge.hasClass('jp-mod-running')).toBe(true);
    // The clock is a timer that screen readers do not announce every second.
    const timer = badge.node.querySelector('[role="timer"]');
    expect(timer?.getAttribute('aria-live')).toBe('off');

    badge.render({
      status: 'awaiting_input',
      label: 'Waiting for input · Alice',
      elapsed: null,
      title: 'details'
    });
    expect(badge.hasClass('jp-mod-running')).toBe(false);
    expect(badge.hasClass('jp-mod-awaitingInput')).toBe(true);
    expect(badge.node.textContent).toBe('Waiting for input · Alice');

    badge.render(null);
    expect(badge.isHidden).toBe(true);
    expect(badge.hasClass('jp-mod-awaitingInput')).toBe(false);
    expect(badge.node.dataset.status).toBeUndefined();
    badge.dispose();
  });
});

/**
 * A collaborative notebook model with code cells (and a markdown cell at the end).
 */
function createModel(sources: string[]): NotebookModel {
  const model = new NotebookModel({ collaborationEnabled: true });
  withoutYjsWarnings(() => {
    model.sharedModel.insertCells(0, [
      ...sources.map(source => ({ cell_type: 'code' as const, source })),
      { cell_type: 'markdown' as const, source: '# Notes' }
    ]);
  });
  return model;
}

function ydocOf(model: NotebookModel): Y.Doc {
  return (model.sharedModel as unknown as { ydoc: Y.Doc }).ydoc;
}

function cellId(cell: Cell): string {
  return cell.model.sharedModel.getId();
}

describe('CellStatusTracker', () => {
  let model: NotebookModel;
  let notebook: Notebook;
  let server: ServerDoc;
  let config: StatusConfig;
  let clock: number;
  let tracker: CellStatusTracker;

  beforeEach(() => {
    model = createModel(['a = 1', 'b = 2', 'c = 3']);
    notebook = NBTestUtils.createNotebook();
    notebook.model = model;
    server = new ServerDoc();
    // The server's copy starts with the notebook's cells.
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
    config = new StatusConfig();
    clock = 100_000;
    tracker = new CellStatusTracker({
      notebook,
      config,
      now: () => clock,
      formatTime: testFormat
    });
  });

  afterEach(() => {
    tracker.dispose();
    notebook.dispose();
    model.dispose();
    jest.useRealTimers();
  });

  function cells(): Cell[] {
    return [...notebook.widgets];
  }

  function badge(index: number): CellStatusBadge {
    const found = tracker.badgeFor(cells()[index]);
    if (!found) {
      throw new Error(`cell ${index} has no badge`);
    }
    return found;
  }

  function text(index: number): string | null {
    const b = badge(index);
    return b.isHidden ? null : b.node.textContent;
  }

  function sync(): void {
    server.syncInto(ydocOf(model));
  }

  it('puts a hidden badge in every code cell, between input and outputs', () => {
    const all = cells();
    expect(all).toHaveLength(4);
    for (const index of [0, 1, 2]) {
      const b = badge(index);
      expect(b.parent).toBe(all[index]);
      expect(b.isHidden).toBe(true);
      const children = Array.from(all[index].node.children);
      const position = children.indexOf(b.node);
      expect(children[position - 1].classList).toContain(
        'jp-Cell-inputWrapper'
      );
      expect(children[position + 1].classList).toContain('jp-CellResizeHandle');
    }
    // Markdown cells get none.
    expect(tracker.badgeFor(all[3])).toBeNull();
    expect(all[3].node.querySelector(`.${BADGE_CLASS}`)).toBeNull();
  });

  it('shows queue positions from a remote update, and follows them', () => {
    const ids = server.queue(
      cells()
        .slice(0, 3)
        .map(cell => ({ cell_id: cellId(cell) }))
    );
    expect(text(0)).toBeNull();
    sync();
    expect(text(0)).toBe('Queued (1 of 3)');
    expect(text(1)).toBe('Queued (2 of 3)');
    expect(text(2)).toBe('Queued (3 of 3)');
    expect(badge(1).node.dataset.status).toBe('queued');
    expect(badge(1).hasClass('jp-mod-queued')).toBe(true);

    server.update(ids[0], { status: 'running', started_at: 95_000 });
    sync();
    expect(text(0)).toBe('Running · Alice · 5s');
    expect(text(1)).toBe('Queued (1 of 2)');
    expect(text(2)).toBe('Queued (2 of 2)');

    server.update(ids[0], {
      status: 'ok',
      finished_at: 99_000,
      execution_count: 1
    });
    server.update(ids[1], { status: 'error', finished_at: 99_500 });
    server.update(ids[2], { status: 'cancelled', finished_at: 99_500 });
    sync();
    expect(text(0)).toBe('Run by Alice · t=99');
    expect(text(1)).toBe('Failed · Run by Alice · t=99.5');
    expect(text(2)).toBe('Cancelled');
    expect(badge(2).hasClass('jp-mod-queued')).toBe(false);
    expect(badge(2).hasClass('jp-mod-cancelled')).toBe(true);
  });

  it("shows a cell's latest request", () => {
    const id = cellId(cells()[0]);
    server.queue([{ cell_id: id, status: 'ok', submitted_by: BOB }], 1000);
    sync();
    expect(text(0)).toBe('Run by Bob B. · t=1');
    server.queue([{ cell_id: id, status: 'interrupted' }], 2000);
    sync();
    expect(text(0)).toBe('Interrupted');
  });

  it('ignores malformed entries', () => {
    const id = cellId(cells()[0]);
    server.queue([{ cell_id: id, status: 'exploded' as RequestStatus }]);
    sync();
    expect(text(0)).toBeNull();
  });

  it('hides a badge when its request is pruned', () => {
    const [requestId] = server.queue([{ cell_id: cellId(cells()[0]) }]);
    sync();
    expect(text(0)).toBe('Queued (1 of 1)');
    server.remove(requestId);
    sync();
    expect(text(0)).toBeNull();
  });

  it('refreshes the running time every second, and only while something runs', () => {
    jest.useFakeTimers();
    const [requestId] = server.queue([
      { cell_id: cellId(cells()[0]), status: 'running', started_at: 99_000 }
    ]);
    expect(tracker.ticking).toBe(false);
    sync();
    expect(text(0)).toBe('Running · Alice · 1s');
    expect(tracker.ticking).toBe(true);

    clock += 2000;
    jest.advanceTimersByTime(TICK_INTERVAL);
    expect(text(0)).toBe('Running · Alice · 3s');
    clock += 60_000;
    jest.advanceTimersByTime(TICK_INTERVAL);
    expect(text(0)).toBe('Running · Alice · 1m 03s');

    server.update(requestId, { status: 'ok', finished_at: clock });
    sync();
    expect(tracker.ticking).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('follows cells that are added, moved and deleted', () => {
    const first = cells()[0];
    const firstId = cellId(first);
    const firstBadge = badge(0);
    server.queue([{ cell_id: firstId, status: 'ok' }]);
    sync();
    expect(text(0)).toBe('Run by Alice · t=1');

    // Moved: @jupyter/ydoc moves a cell by deleting it and inserting a copy with the
    // same id, for which the notebook builds a new widget; its badge follows the id.
    withoutYjsWarnings(() => {
      model.sharedModel.moveCell(0, 2);
    });
    const moved = cells().findIndex(cell => cellId(cell) === firstId);
    expect(moved).toBe(2);
    expect(text(moved)).toBe('Run by Alice · t=1');
    expect(cells()[moved].node.contains(badge(moved).node)).toBe(true);
    if (cells()[moved] !== first) {
      expect(firstBadge.isDisposed).toBe(true);
    }
    expect(text(0)).toBeNull();

    // Added: a new cell gets a badge, and shows a request the doc has for it.
    withoutYjsWarnings(() => {
      model.sharedModel.insertCell(0, {
        cell_type: 'code',
        source: 'new = 1',
        id: 'new-cell'
      });
    });
    expect(cells()).toHaveLength(5);
    expect(text(0)).toBeNull();
    server.queue([{ cell_id: 'new-cell', status: 'running' }], 99_000);
    sync();
    expect(text(0)).toBe('Running · Alice · 1s');

    // Deleted: its badge is disposed.
    const removed = cells()[moved + 1];
    const removedBadge = tracker.badgeFor(removed);
    expect(removedBadge).not.toBeNull();
    model.sharedModel.deleteCell(moved + 1);
    expect(removedBadge?.isDisposed).toBe(true);
    expect(tracker.badgeFor(removed)).toBeNull();
  });

  it('follows a cell changed from markdown to code by a new widget', () => {
    withoutYjsWarnings(() => {
      model.sharedModel.deleteCell(3);
      model.sharedModel.insertCell(3, {
        cell_type: 'code',
        source: 'x',
        id: 'was-markdown'
      });
    });
    server.queue([{ cell_id: 'was-markdown', status: 'ok' }]);
    sync();
    expect(text(3)).toBe('Run by Alice · t=1');
  });

  it('hides the badges while the setting is off, live', () => {
    server.queue([{ cell_id: cellId(cells()[0]), status: 'ok' }]);
    sync();
    expect(text(0)).toBe('Run by Alice · t=1');
    config.showBadges = false;
    expect(text(0)).toBeNull();
    // Changes while hidden are picked up when shown again.
    server.queue([{ cell_id: cellId(cells()[1]) }], 2000);
    sync();
    expect(text(1)).toBeNull();
    config.showBadges = true;
    expect(text(0)).toBe('Run by Alice · t=1');
    expect(text(1)).toBe('Queued (1 of 1)');
  });

  it('stops its timer while the badges are hidden', () => {
    jest.useFakeTimers();
    server.queue([{ cell_id: cellId(cells()[0]), status: 'running' }]);
    sync();
    expect(tracker.ticking).toBe(true);
    config.showBadges = false;
    expect(tracker.ticking).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('shows the same in every view of the notebook, and after a reload', () => {
    server.queue([
      { cell_id: cellId(cells()[0]), status: 'ok', submitted_by: BOB }
    ]);
    sync();
    // A later visitor: a fresh notebook model filled from the room.
    const later = new NotebookModel({ collaborationEnabled: true });
    Y.applyUpdate(
      ydocOf(later),
      Y.encodeStateAsUpdate(ydocOf(model)),
      'remote'
    );
    const view = NBTestUtils.createNotebook();
    view.model = later;
    const laterTracker = new CellStatusTracker({
      notebook: view,
      config,
      now: () => clock,
      formatTime: testFormat
    });
    const laterBadge = laterTracker.badgeFor(view.widgets[0]);
    expect(laterBadge?.node.textContent).toBe('Run by Bob B. · t=1');
    expect(laterBadge?.node.textContent).toMatch(/run by Bob B\./i);
    // Disposing the notebook disposes its tracker.
    view.dispose();
    expect(laterTracker.isDisposed).toBe(true);
    expect(laterBadge?.isDisposed).toBe(true);
    laterTracker.dispose();
    later.dispose();
  });

  it('removes its badges when disposed', () => {
    server.queue([{ cell_id: cellId(cells()[0]), status: 'ok' }]);
    sync();
    const badges = [0, 1, 2].map(badge);
    tracker.dispose();
    expect(badges.every(b => b.isDisposed)).toBe(true);
    expect(notebook.node.querySelector(`.${BADGE_CLASS}`)).toBeNull();
    // Later doc changes do nothing.
    server.queue([{ cell_id: cellId(cells()[1]) }], 2000);
    sync();
    expect(notebook.node.querySelector(`.${BADGE_CLASS}`)).toBeNull();
  });

  it('follows a new model on the notebook widget', () => {
    const other = createModel(['z = 26']);
    const otherServer = new ServerDoc();
    Y.applyUpdate(
      otherServer.doc,
      Y.encodeStateAsUpdate(ydocOf(other)),
      'remote'
    );
    notebook.model = other;
    const id = other.sharedModel.cells[0].getId();
    otherServer.queue([{ cell_id: id, status: 'ok', submitted_by: BOB }]);
    otherServer.syncInto(ydocOf(other));
    expect(text(0)).toBe('Run by Bob B. · t=1');
    // The old model no longer drives the badges.
    server.queue([{ cell_id: cellId(cells()[0]) }], 2000);
    sync();
    expect(text(0)).toBe('Run by Bob B. · t=1');
    other.dispose();
  });
});

describe('CellStatusTracker in a windowed notebook', () => {
  /**
   * Resolve once `condition` holds, checking at every macrotask; fail after `timeout`.
   */
  async function waitFor(condition: () => boolean, timeout = 5000) {
    const deadline = Date.now() + timeout;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error('Timed out');
      }
      await new Promise(resolve => setTimeout(resolve, 5));
    }
  }

  it('adds the badge when a placeholder cell is rendered', async () => {
    const model = createModel(['a = 1', 'b = 2']);
    const server = new ServerDoc();
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
    // JupyterLab's default: cells are built on idle time, after the notebook shows.
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
    const tracker = new CellStatusTracker({
      notebook,
      config: new StatusConfig(),
      formatTime: testFormat
    });
    const cell = notebook.widgets[1];
    server.queue([{ cell_id: cellId(cell) }]);
    server.syncInto(ydocOf(model));

    expect(cell.isPlaceholder()).toBe(true);
    const badge = tracker.badgeFor(cell);
    expect(badge?.node.textContent).toBe('Queued (1 of 1)');
    expect(badge?.parent).toBeNull();

    Widget.attach(notebook, document.body);
    await waitFor(() => notebook.widgets.every(c => !c.isPlaceholder()));
    await drain();
    expect(badge?.parent).toBe(cell);
    expect(cell.node.querySelector(`.${BADGE_CLASS}`)?.textContent).toBe(
      'Queued (1 of 1)'
    );
    expect(tracker.badgeFor(notebook.widgets[0])?.parent).toBe(
      notebook.widgets[0]
    );

    tracker.dispose();
    Widget.detach(notebook);
    notebook.dispose();
    model.dispose();
  });
});

/* ------------------------------------------------------------------------------------
 * The toolbar item.
 * ---------------------------------------------------------------------------------- */

/**
 * Stands in for the REST API: records every cancel call.
 */
class RecordingBackend implements IQueueBackend {
  calls: Array<{ documentId: string; requestIds: string[] | undefined }> = [];
  failure: Error | null = null;
  answer: string[] = [];
  onCancel: (() => void) | null = null;

  cancel(documentId: string, requestIds?: string[]): Promise<string[]> {
    this.calls.push({ documentId, requestIds });
    this.onCancel?.();
    return this.failure
      ? Promise.reject(this.failure)
      : Promise.resolve(this.answer);
  }
}

const INFO: IServerInfo = {
  version: '0.1.0',
  features: ['execute', 'cancel', 'status']
};

describe('QueueToolbarItem', () => {
  let model: NotebookModel;
  let notebook: Notebook;
  let server: ServerDoc;
  let backend: RecordingBackend;
  let item: QueueToolbarItem;

  beforeEach(() => {
    model = createModel(['a = 1', 'b = 2', 'c = 3']);
    notebook = NBTestUtils.createNotebook();
    notebook.model = model;
    server = new ServerDoc();
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
    backend = new RecordingBackend();
  });

  afterEach(() => {
    item?.dispose();
    notebook.dispose();
    model.dispose();
    Notification.manager.dismiss();
  });

  function create(info: IServerInfo | null = INFO): QueueToolbarItem {
    item = new QueueToolbarItem({
      notebook,
      backend,
      serverInfo: Promise.resolve(info)
    });
    return item;
  }

  function button(): HTMLButtonElement {
    return item.node.querySelector('button') as HTMLButtonElement;
  }

  function cellIds(): string[] {
    return notebook.widgets.slice(0, 3).map(cellId);
  }

  function sync(): void {
    server.syncInto(ydocOf(model));
  }

  it('shows nothing until the room id and the server info are known', async () => {
    create();
    expect(item.isHidden).toBe(true);
    await drain();
    // Not collaborative yet: the provider sets the room id once it has synced.
    expect(item.isHidden).toBe(true);
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    expect(item.isHidden).toBe(false);
    expect(item.summary?.queued).toBe(0);
  });

  it('stays hidden when the server lacks the extension', async () => {
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    create(null);
    await drain();
    expect(item.isHidden).toBe(true);
  });

  it('shows the kernel state and the queue from remote updates', async () => {
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    const state = item.node.querySelector('.jp-CollabExec-kernelState');
    const queue = item.node.querySelector('.jp-CollabExec-queueLength');
    expect(state?.textContent).toBe('Unknown');
    expect(queue?.textContent).toBe('Queue empty');
    expect(button().disabled).toBe(true);

    server.setKernel('busy');
    const ids = server.queue([
      { cell_id: cellIds()[0], status: 'running' },
      { cell_id: cellIds()[1] },
      { cell_id: cellIds()[2] }
    ]);
    sync();
    expect(state?.textContent).toBe('Busy');
    expect((state as HTMLElement).dataset.state).toBe('busy');
    expect(queue?.textContent).toBe('2 queued');
    expect(button().disabled).toBe(false);

    server.update(ids[1], { status: 'cancelled' });
    server.update(ids[2], { status: 'cancelled' });
    server.setKernel('idle');
    sync();
    expect(state?.textContent).toBe('Idle');
    expect(queue?.textContent).toBe('Queue empty');
    expect(button().disabled).toBe(true);
  });

  it('cancels every queued request of the document', async () => {
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    const ids = server.queue([
      { cell_id: cellIds()[0] },
      { cell_id: cellIds()[1] }
    ]);
    sync();
    backend.answer = ids;
    let disabledWhilePending = false;
    backend.onCancel = () => {
      disabledWhilePending = button().disabled;
    };
    button().click();
    await drain();
    expect(backend.calls).toEqual([
      { documentId: DOCUMENT_ID, requestIds: undefined }
    ]);
    expect(disabledWhilePending).toBe(true);
    // The doc, not the answer, changes what is shown.
    expect(button().disabled).toBe(false);
    for (const id of ids) {
      server.update(id, { status: 'cancelled' });
    }
    sync();
    expect(button().disabled).toBe(true);
  });

  it('reports a failed cancel', async () => {
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    server.queue([{ cell_id: cellIds()[0] }]);
    sync();
    backend.failure = new Error('403: Forbidden');
    const messages: string[] = [];
    const onNotification = (_sender: unknown, change: Notification.IChange) => {
      if (change.type === 'added') {
        messages.push(change.notification.message);
      }
    };
    const changed: ISignal<unknown, Notification.IChange> =
      Notification.manager.changed;
    changed.connect(onNotification);
    await item.cancelQueued();
    changed.disconnect(onNotification);
    expect(messages).toEqual([
      'Could not cancel the queued cells: 403: Forbidden'
    ]);
    expect(button().disabled).toBe(false);
  });

  it('cannot cancel on a server without the cancel feature', async () => {
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    create({ version: '0.0.1', features: ['execute'] });
    await drain();
    server.queue([{ cell_id: cellIds()[0] }]);
    sync();
    expect(item.isHidden).toBe(false);
    expect(button().disabled).toBe(true);
  });
});

/* ------------------------------------------------------------------------------------
 * The REST client.
 * ---------------------------------------------------------------------------------- */

describe('CollabExecClient.cancel', () => {
  interface ISent {
    url: string;
    method: string;
    body: unknown;
  }

  function client(answer: { status: number; body: unknown }): {
    client: CollabExecClient;
    sent: ISent[];
  } {
    const sent: ISent[] = [];
    const fetchStub = async (
      input: RequestInfo | URL,
      init?: RequestInit
    ): Promise<Response> => {
      const request = new Request(input, init);
      sent.push({
        url: request.url,
        method: request.method,
        body: JSON.parse(await request.text())
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

  it('posts the document id, and the request ids only when given', async () => {
    const { client: api, sent } = client({
      status: 200,
      body: { cancelled: ['r1', 'r2'] }
    });
    await expect(api.cancel(DOCUMENT_ID)).resolves.toEqual(['r1', 'r2']);
    await api.cancel(DOCUMENT_ID, ['r1']);
    // ServerConnection appends a cache-busting query.
    const url = /^http:\/\/localhost:8888\/api\/collab-exec\/cancel(\?\d+)?$/;
    expect(sent).toEqual([
      {
        url: expect.stringMatching(url),
        method: 'POST',
        body: { document_id: DOCUMENT_ID }
      },
      {
        url: expect.stringMatching(url),
        method: 'POST',
        body: { document_id: DOCUMENT_ID, request_ids: ['r1'] }
      }
    ]);
  });

  it("rejects with the server's message", async () => {
    const { client: api } = client({
      status: 404,
      body: { message: 'Unknown document' }
    });
    const error = await api.cancel(DOCUMENT_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ServerConnection.ResponseError).message).toBe(
      'Unknown document'
    );
    expect((error as ServerConnection.ResponseError).response.status).toBe(404);
  });
});
