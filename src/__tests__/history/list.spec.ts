import * as Y from 'yjs';

import { CollabExecModel } from '../../doc/model';
import { HISTORY } from '../../doc/schema';
import { RunList } from '../../history/list';
import { ALICE, BOB, childMap, DOCUMENT_ID, waitFor } from '../helpers';
import { by, ListedHistory, runSummary } from './fixtures';

function ids(list: RunList): string[] {
  return list.runs.map(run => run.run_id);
}

describe('RunList', () => {
  it('loads the newest page of a cell, then older pages', async () => {
    const backend = new ListedHistory(
      Array.from({ length: 5 }, (_, i) => runSummary(i + 1))
    );
    backend.runs.push(runSummary(6, { cell_id: 'other' }));
    const list = new RunList({
      backend,
      query: { documentId: DOCUMENT_ID, cellId: 'cell-0' },
      pageSize: 2
    });
    await list.load();
    expect(ids(list)).toEqual(['run-5', 'run-4']);
    expect(list.hasMore).toBe(true);
    await list.loadMore();
    await list.loadMore();
    expect(ids(list)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
    expect(list.hasMore).toBe(false);
    expect(backend.queries.map(query => query.before)).toEqual([
      undefined,
      'run-4',
      'run-2'
    ]);
    expect(backend.queries.every(query => query.cellId === 'cell-0')).toBe(
      true
    );
  });

  it('puts new runs on top and keeps the older pages; starts again after more than a page', async () => {
    const backend = new ListedHistory([1, 2, 3].map(n => runSummary(n)));
    const list = new RunList({
      backend,
      query: { documentId: DOCUMENT_ID },
      pageSize: 2
    });
    await list.load();
    await list.loadMore();
    backend.runs.push(runSummary(4));
    await list.refresh();
    expect(ids(list)).toEqual(['run-4', 'run-3', 'run-2', 'run-1']);
    expect(list.hasMore).toBe(false);

    backend.runs.push(...[5, 6, 7].map(n => runSummary(n)));
    await list.refresh();
    expect(ids(list)).toEqual(['run-7', 'run-6']);
    expect(list.hasMore).toBe(true);
  });

  it("lists one person's runs", async () => {
    const backend = new ListedHistory([
      runSummary(1, by(ALICE)),
      runSummary(2, by(BOB)),
      runSummary(3, by(ALICE))
    ]);
    const list = new RunList({ backend, query: { documentId: DOCUMENT_ID } });
    await list.load();
    await list.setSubmittedBy('bob');
    expect(ids(list)).toEqual(['run-2']);
    expect(list.submittedBy).toBe('bob');
    await list.setSubmittedBy(null);
    expect(ids(list)).toEqual(['run-3', 'run-2', 'run-1']);
  });

  it('says why it cannot load, and keeps what it had', async () => {
    const backend = new ListedHistory([runSummary(1)]);
    const list = new RunList({ backend, query: { documentId: DOCUMENT_ID } });
    await list.load();
    backend.failWith = new Error('The run history cannot be read.');
    await list.refresh();
    expect(list.error).toBe('The run history cannot be read.');
    expect(ids(list)).toEqual(['run-1']);
    expect(list.loading).toBe(false);
    backend.failWith = null;
    await list.refresh();
    expect(list.error).toBeNull();
  });

  it('drops an answer that a newer load overtook', async () => {
    const backend = new ListedHistory([runSummary(1, by(ALICE))]);
    const list = new RunList({ backend, query: { documentId: DOCUMENT_ID } });
    const first = list.load();
    const filtered = list.setSubmittedBy('bob');
    await Promise.all([first, filtered]);
    expect(ids(list)).toEqual([]);
  });

  it('refreshes when the doc counts new runs of its cell, not of others', async () => {
    const ydoc = new Y.Doc();
    const collab = CollabExecModel.forDoc(ydoc);
    const backend = new ListedHistory([runSummary(1)]);
    const list = new RunList({
      backend,
      query: { documentId: DOCUMENT_ID, cellId: 'cell-0' },
      collab
    });
    await list.load();
    const counts = childMap(ydoc, HISTORY);

    counts.set('another-cell', 1);
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(backend.queries).toHaveLength(1);

    backend.runs.push(runSummary(2));
    counts.set('cell-0', 1);
    await waitFor(() => list.runs.length === 2);
    expect(ids(list)).toEqual(['run-2', 'run-1']);
    expect(collab.recordedRuns('cell-0')).toBe(1);
    expect(collab.recordedRuns()).toBe(2);

    list.dispose();
    counts.set('cell-0', 2);
    expect(backend.queries).toHaveLength(2);
    ydoc.destroy();
  });
});
