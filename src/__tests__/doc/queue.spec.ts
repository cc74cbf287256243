import * as Y from 'yjs';

import { CollabExecModel } from '../../doc/model';
import {
  latestPerCell,
  queuedCount,
  queueOrder,
  queuePositions
} from '../../doc/queue';
import { KERNEL_ID, requestEntry as entry, ServerDoc } from '../helpers';

describe('queueOrder', () => {
  it('orders by submission time, whatever the ids', () => {
    const ordered = queueOrder([
      entry('later', { submitted_at: 2000 }),
      entry('a', { submitted_at: 1000.001 }),
      entry('m', { submitted_at: 1000.002 }),
      entry('z', { submitted_at: 1000 })
    ]);
    expect(ordered.map(e => e.request_id)).toEqual(['z', 'a', 'm', 'later']);
  });

  it('breaks equal times by request id, and copies its input', () => {
    const input = [entry('b'), entry('a')];
    expect(queueOrder(input).map(e => e.request_id)).toEqual(['a', 'b']);
    expect(input.map(e => e.request_id)).toEqual(['b', 'a']);
  });

  it('compares ids by code unit, the same in every locale', () => {
    const input = [entry('b'), entry('B'), entry('a'), entry('A')];
    expect(queueOrder(input).map(e => e.request_id)).toEqual([
      'A',
      'B',
      'a',
      'b'
    ]);
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

describe('the requests of a model', () => {
  it('keep the order of a batch, also in a doc that received it as an update', () => {
    const server = new ServerDoc();
    const batch = server.queue(
      ['c1', 'c2', 'c3', 'c4', 'c5'].map(cell_id => ({ cell_id }))
    );
    const earlier = server.queue([{ cell_id: 'c0' }], 500);
    const client = new Y.Doc();
    server.syncInto(client);

    for (const doc of [server.doc, client]) {
      const model = new CollabExecModel(doc);
      expect(model.requests().map(e => e.request_id)).toEqual([
        ...earlier,
        ...batch
      ]);
      model.dispose();
    }
  });
});
