import type { Cell } from '@jupyterlab/cells';
import { Widget } from '@lumino/widgets';

import type { RequestStatus } from '../../doc/schema';
import { CollabExecSettings } from '../../common/settings';
import { BADGE_CLASS, type CellStatusBadge } from '../../status/badge';
import { CellStatusTracker, TICK_INTERVAL } from '../../status/tracker';
import {
  BOB,
  cellId,
  createModel,
  drain,
  reloaded,
  ServerDoc,
  testFormat,
  useSharedNotebook,
  waitFor,
  windowedNotebook,
  withoutYjsWarnings,
  ydocOf
} from '../helpers';

describe('CellStatusTracker', () => {
  const room = useSharedNotebook(['a = 1', 'b = 2', 'c = 3']);
  let settings: CollabExecSettings;
  let clock: number;
  let tracker: CellStatusTracker;

  beforeEach(() => {
    settings = new CollabExecSettings();
    clock = 100_000;
    tracker = new CellStatusTracker({
      notebook: room.notebook,
      settings,
      now: () => clock,
      formatTime: testFormat
    });
  });

  afterEach(() => {
    tracker.dispose();
    jest.useRealTimers();
  });

  function cells(): Cell[] {
    return [...room.notebook.widgets];
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
    const ids = room.server.queue(
      cells()
        .slice(0, 3)
        .map(cell => ({ cell_id: cellId(cell) }))
    );
    expect(text(0)).toBeNull();
    room.sync();
    expect(text(0)).toBe('Queued (1 of 3)');
    expect(text(1)).toBe('Queued (2 of 3)');
    expect(text(2)).toBe('Queued (3 of 3)');
    expect(badge(1).node.dataset.status).toBe('queued');
    expect(badge(1).hasClass('jp-mod-queued')).toBe(true);

    room.server.update(ids[0], { status: 'running', started_at: 95_000 });
    room.sync();
    expect(text(0)).toBe('Running · Alice · 5s');
    expect(text(1)).toBe('Queued (1 of 2)');
    expect(text(2)).toBe('Queued (2 of 2)');

    room.server.update(ids[0], {
      status: 'ok',
      finished_at: 99_000,
      execution_count: 1
    });
    room.server.update(ids[1], { status: 'error', finished_at: 99_500 });
    room.server.update(ids[2], { status: 'cancelled', finished_at: 99_500 });
    room.sync();
    expect(text(0)).toBe('Run by Alice · t=99');
    expect(text(1)).toBe('Failed · Run by Alice · t=99.5');
    expect(text(2)).toBe('Cancelled');
    expect(badge(2).hasClass('jp-mod-queued')).toBe(false);
    expect(badge(2).hasClass('jp-mod-cancelled')).toBe(true);
  });

  it("shows a cell's latest request", () => {
    const id = cellId(cells()[0]);
    room.server.queue([{ cell_id: id, status: 'ok', submitted_by: BOB }], 1000);
    room.sync();
    expect(text(0)).toBe('Run by Bob B. · t=1');
    room.server.queue([{ cell_id: id, status: 'interrupted' }], 2000);
    room.sync();
    expect(text(0)).toBe('Interrupted');
  });

  it('shows why the server ended a request', () => {
    const id = cellId(cells()[0]);
    const [requestId] = room.server.queue([
      { cell_id: id, status: 'running', started_at: 99_000 }
    ]);
    room.sync();
    room.server.update(requestId, {
      status: 'interrupted',
      reason: 'The kernel died.'
    });
    room.sync();
    expect(text(0)).toBe('Interrupted · The kernel died.');
    expect(badge(0).node.title).toBe(
      'Interrupted; run by Alice. Started at t=99.s. Reason: The kernel died.'
    );
    // A reason that is not a string is not shown.
    room.server.update(requestId, { reason: 42 as unknown as string });
    room.sync();
    expect(text(0)).toBe('Interrupted');
  });

  it('ignores malformed entries', () => {
    const id = cellId(cells()[0]);
    room.server.queue([{ cell_id: id, status: 'exploded' as RequestStatus }]);
    room.sync();
    expect(text(0)).toBeNull();
  });

  it('hides a badge when its request is pruned', () => {
    const [requestId] = room.server.queue([{ cell_id: cellId(cells()[0]) }]);
    room.sync();
    expect(text(0)).toBe('Queued (1 of 1)');
    room.server.remove(requestId);
    room.sync();
    expect(text(0)).toBeNull();
  });

  it('refreshes the running time every second, and only while something runs', () => {
    jest.useFakeTimers();
    const [requestId] = room.server.queue([
      { cell_id: cellId(cells()[0]), status: 'running', started_at: 99_000 }
    ]);
    expect(tracker.ticking).toBe(false);
    room.sync();
    expect(text(0)).toBe('Running · Alice · 1s');
    expect(tracker.ticking).toBe(true);

    clock += 2000;
    jest.advanceTimersByTime(TICK_INTERVAL);
    expect(text(0)).toBe('Running · Alice · 3s');
    clock += 60_000;
    jest.advanceTimersByTime(TICK_INTERVAL);
    expect(text(0)).toBe('Running · Alice · 1m 03s');

    room.server.update(requestId, { status: 'ok', finished_at: clock });
    room.sync();
    expect(tracker.ticking).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('follows cells that are added, moved and deleted', () => {
    const first = cells()[0];
    const firstId = cellId(first);
    const firstBadge = badge(0);
    room.server.queue([{ cell_id: firstId, status: 'ok' }]);
    room.sync();
    expect(text(0)).toBe('Run by Alice · t=1');

    // Moved: @jupyter/ydoc moves a cell by deleting it and inserting a copy with the
    // same id, for which the notebook builds a new widget; its badge follows the id.
    withoutYjsWarnings(() => {
      room.model.sharedModel.moveCell(0, 2);
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
      room.model.sharedModel.insertCell(0, {
        cell_type: 'code',
        source: 'new = 1',
        id: 'new-cell'
      });
    });
    expect(cells()).toHaveLength(5);
    expect(text(0)).toBeNull();
    room.server.queue([{ cell_id: 'new-cell', status: 'running' }], 99_000);
    room.sync();
    expect(text(0)).toBe('Running · Alice · 1s');

    // Deleted: its badge is disposed.
    const removed = cells()[moved + 1];
    const removedBadge = tracker.badgeFor(removed);
    expect(removedBadge).not.toBeNull();
    room.model.sharedModel.deleteCell(moved + 1);
    expect(removedBadge?.isDisposed).toBe(true);
    expect(tracker.badgeFor(removed)).toBeNull();
  });

  it('follows a cell changed from markdown to code by a new widget', () => {
    withoutYjsWarnings(() => {
      room.model.sharedModel.deleteCell(3);
      room.model.sharedModel.insertCell(3, {
        cell_type: 'code',
        source: 'x',
        id: 'was-markdown'
      });
    });
    room.server.queue([{ cell_id: 'was-markdown', status: 'ok' }]);
    room.sync();
    expect(text(3)).toBe('Run by Alice · t=1');
  });

  it('hides the badges while the setting is off, live', () => {
    room.server.queue([{ cell_id: cellId(cells()[0]), status: 'ok' }]);
    room.sync();
    expect(text(0)).toBe('Run by Alice · t=1');
    settings.showStatusBadges = false;
    expect(text(0)).toBeNull();
    // Changes while hidden are picked up when shown again.
    room.server.queue([{ cell_id: cellId(cells()[1]) }], 2000);
    room.sync();
    expect(text(1)).toBeNull();
    settings.showStatusBadges = true;
    expect(text(0)).toBe('Run by Alice · t=1');
    expect(text(1)).toBe('Queued (1 of 1)');
  });

  it('stops its timer while the badges are hidden', () => {
    jest.useFakeTimers();
    room.server.queue([{ cell_id: cellId(cells()[0]), status: 'running' }]);
    room.sync();
    expect(tracker.ticking).toBe(true);
    settings.showStatusBadges = false;
    expect(tracker.ticking).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('shows the same in every view of the notebook, and after a reload', () => {
    room.server.queue([
      { cell_id: cellId(cells()[0]), status: 'ok', submitted_by: BOB }
    ]);
    room.sync();
    // A later visitor: a fresh notebook model filled from the room.
    const { model: later, view } = reloaded(room.model);
    const laterTracker = new CellStatusTracker({
      notebook: view,
      settings,
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

  it("offers each cell's run history once the server keeps one, and says which cell was asked for", () => {
    room.server.queue([
      { cell_id: cellId(cells()[1]), status: 'ok', finished_at: 99_000 }
    ]);
    room.sync();
    const button = () =>
      badge(1).node.querySelector<HTMLButtonElement>(
        '.jp-CollabExec-badgeHistory'
      )!;
    expect(button().hidden).toBe(true);
    const asked: string[] = [];
    tracker.historyRequested.connect((_tracker, id) => asked.push(id));
    button().click();
    expect(asked).toEqual([]);

    tracker.setHistoryAvailable(true);
    expect(button().hidden).toBe(false);
    expect(button().getAttribute('aria-label')).toBe(
      'Run history of this cell'
    );
    // The icon has no text: the badge still says the status alone.
    expect(text(1)).toMatch(/^Run by Alice/);
    button().click();
    badge(1).node.click();
    expect(asked).toEqual([cellId(cells()[1]), cellId(cells()[1])]);
  });

  it('removes its badges when disposed', () => {
    room.server.queue([{ cell_id: cellId(cells()[0]), status: 'ok' }]);
    room.sync();
    const badges = [0, 1, 2].map(badge);
    tracker.dispose();
    expect(badges.every(b => b.isDisposed)).toBe(true);
    expect(room.notebook.node.querySelector(`.${BADGE_CLASS}`)).toBeNull();
    // Later doc changes do nothing.
    room.server.queue([{ cell_id: cellId(cells()[1]) }], 2000);
    room.sync();
    expect(room.notebook.node.querySelector(`.${BADGE_CLASS}`)).toBeNull();
  });

  it('follows a new model on the notebook widget', () => {
    const other = createModel(['z = 26']);
    const otherServer = ServerDoc.from(ydocOf(other));
    room.notebook.model = other;
    const id = other.sharedModel.cells[0].getId();
    otherServer.queue([{ cell_id: id, status: 'ok', submitted_by: BOB }]);
    otherServer.syncInto(ydocOf(other));
    expect(text(0)).toBe('Run by Bob B. · t=1');
    // The old model no longer drives the badges.
    room.server.queue([{ cell_id: cellId(cells()[0]) }], 2000);
    room.sync();
    expect(text(0)).toBe('Run by Bob B. · t=1');
    other.dispose();
  });
});

describe('CellStatusTracker in a windowed notebook', () => {
  it('adds the badge when a placeholder cell is rendered', async () => {
    const model = createModel(['a = 1', 'b = 2']);
    const server = ServerDoc.from(ydocOf(model));
    // JupyterLab's default: cells are built on idle time, after the notebook shows.
    const notebook = windowedNotebook(model);
    const tracker = new CellStatusTracker({
      notebook,
      settings: new CollabExecSettings(),
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
