import { PromiseDelegate } from '@lumino/coreutils';

import type {
  IAcceptedRequest,
  IExecuteBody,
  IExecutionBackend,
  IServerInfo
} from '../../server/backends';
import { ExecutionBatcher, type IBatchItem } from '../../execution/batch';
import { drain, track } from '../helpers';

/**
 * A backend that records every execute body and lets the test decide each answer.
 *
 * By default it accepts every cell at once, with request ids in the order of the cells.
 */
class RecordingBackend implements IExecutionBackend {
  bodies: IExecuteBody[] = [];

  /**
   * Set to hold the answers back; the test then settles `pending` itself.
   */
  manual = false;
  pending: PromiseDelegate<IAcceptedRequest[]>[] = [];

  info(): Promise<IServerInfo | null> {
    return Promise.resolve({ version: '0.1.0', features: ['execute'] });
  }

  execute(body: IExecuteBody): Promise<IAcceptedRequest[]> {
    // Keep a deep copy so that later mutations cannot change what was sent.
    this.bodies.push(JSON.parse(JSON.stringify(body)) as IExecuteBody);
    if (!this.manual) {
      return Promise.resolve(accept(body, this.bodies.length));
    }
    const delegate = new PromiseDelegate<IAcceptedRequest[]>();
    this.pending.push(delegate);
    return delegate.promise;
  }
}

function accept(body: IExecuteBody, batch: number): IAcceptedRequest[] {
  return body.cells.map(cell => ({
    request_id: `b${batch}-${cell.cell_id}`,
    cell_id: cell.cell_id
  }));
}

function item(
  cellId: string,
  options: Partial<Omit<IBatchItem, 'cell'>> & { source?: string } = {}
): IBatchItem {
  return {
    documentId: options.documentId ?? 'json:notebook:doc-a',
    kernelId: options.kernelId ?? 'kernel-1',
    cell:
      options.source === undefined
        ? { cell_id: cellId }
        : { cell_id: cellId, source: options.source },
    recordTiming: options.recordTiming ?? false
  };
}

/**
 * A schedule that the test triggers by hand.
 */
class ManualSchedule {
  flushes: Array<() => void> = [];

  readonly schedule = (flush: () => void): void => {
    this.flushes.push(flush);
  };

  /**
   * Run the flushes scheduled so far.
   */
  run(): void {
    const flushes = this.flushes;
    this.flushes = [];
    for (const flush of flushes) {
      flush();
    }
  }
}

describe('ExecutionBatcher', () => {
  let backend: RecordingBackend;
  let schedule: ManualSchedule;
  let batcher: ExecutionBatcher;

  beforeEach(() => {
    backend = new RecordingBackend();
    schedule = new ManualSchedule();
    batcher = new ExecutionBatcher(backend, schedule.schedule);
  });

  it('sends nothing before the flush', async () => {
    const accepted = track(batcher.add(item('c1')));
    await drain();
    expect(backend.bodies).toEqual([]);
    expect(accepted.settled).toBe(false);
    expect(schedule.flushes).toHaveLength(1);
  });

  it('groups the cells added before a flush into one request, in order', async () => {
    const first = batcher.add(item('c1', { source: 'a = 1' }));
    const second = batcher.add(item('c2', { source: 'b = 2' }));
    const third = batcher.add(item('c3'));
    expect(schedule.flushes).toHaveLength(1);

    schedule.run();
    await expect(Promise.all([first, second, third])).resolves.toEqual([
      { request_id: 'b1-c1', cell_id: 'c1' },
      { request_id: 'b1-c2', cell_id: 'c2' },
      { request_id: 'b1-c3', cell_id: 'c3' }
    ]);
    expect(backend.bodies).toEqual([
      {
        document_id: 'json:notebook:doc-a',
        kernel_id: 'kernel-1',
        cells: [
          { cell_id: 'c1', source: 'a = 1' },
          { cell_id: 'c2', source: 'b = 2' },
          { cell_id: 'c3' }
        ],
        record_timing: false
      }
    ]);
  });

  it('makes one request per document and kernel', async () => {
    const promises = [
      batcher.add(item('a1', { documentId: 'doc-a', kernelId: 'k1' })),
      batcher.add(item('b1', { documentId: 'doc-b', kernelId: 'k1' })),
      batcher.add(item('a2', { documentId: 'doc-a', kernelId: 'k2' })),
      batcher.add(item('a3', { documentId: 'doc-a', kernelId: 'k1' })),
      batcher.add(item('b2', { documentId: 'doc-b', kernelId: 'k1' }))
    ];
    schedule.run();
    const accepted = await Promise.all(promises);

    expect(
      backend.bodies.map(body => [
        body.document_id,
        body.kernel_id,
        body.cells.map(cell => cell.cell_id)
      ])
    ).toEqual([
      ['doc-a', 'k1', ['a1', 'a3']],
      ['doc-b', 'k1', ['b1', 'b2']],
      ['doc-a', 'k2', ['a2']]
    ]);
    expect(accepted.map(request => request.request_id)).toEqual([
      'b1-a1',
      'b2-b1',
      'b3-a2',
      'b1-a3',
      'b2-b2'
    ]);
  });

  it('does not confuse ids that would collide when concatenated', async () => {
    const promises = [
      batcher.add(item('x', { documentId: 'a:b', kernelId: 'c' })),
      batcher.add(item('y', { documentId: 'a', kernelId: 'b:c' }))
    ];
    schedule.run();
    await Promise.all(promises);
    expect(backend.bodies).toHaveLength(2);
  });

  it('records timing when any cell of the batch asks for it', async () => {
    const promises = [
      batcher.add(item('c1', { documentId: 'doc-a' })),
      batcher.add(item('c2', { documentId: 'doc-a', recordTiming: true })),
      batcher.add(item('c3', { documentId: 'doc-b' }))
    ];
    schedule.run();
    await Promise.all(promises);
    expect(backend.bodies.map(body => body.record_timing)).toEqual([
      true,
      false
    ]);
  });

  it('schedules one flush per batch', async () => {
    const first = batcher.add(item('c1'));
    const second = batcher.add(item('c2'));
    expect(schedule.flushes).toHaveLength(1);
    schedule.run();
    await Promise.all([first, second]);

    const third = batcher.add(item('c3'));
    expect(schedule.flushes).toHaveLength(1);
    schedule.run();
    await expect(third).resolves.toEqual({
      request_id: 'b2-c3',
      cell_id: 'c3'
    });
    expect(backend.bodies.map(body => body.cells.length)).toEqual([2, 1]);
  });

  it('posts the batches of one flush one after the other', async () => {
    backend.manual = true;
    const a = track(batcher.add(item('a1', { documentId: 'doc-a' })));
    const b = track(batcher.add(item('b1', { documentId: 'doc-b' })));
    schedule.run();
    await drain();

    // The second batch waits for the answer to the first.
    expect(backend.bodies.map(body => body.document_id)).toEqual(['doc-a']);
    backend.pending[0].resolve(accept(backend.bodies[0], 1));
    await drain();
    expect(a.value).toEqual({ request_id: 'b1-a1', cell_id: 'a1' });
    expect(b.settled).toBe(false);
    expect(backend.bodies.map(body => body.document_id)).toEqual([
      'doc-a',
      'doc-b'
    ]);

    backend.pending[1].resolve(accept(backend.bodies[1], 2));
    await drain();
    expect(b.value).toEqual({ request_id: 'b2-b1', cell_id: 'b1' });
  });

  it('keeps submission order across flushes while a post is in flight', async () => {
    backend.manual = true;
    const first = track(batcher.add(item('c1')));
    schedule.run();
    await drain();
    expect(backend.bodies).toHaveLength(1);

    const second = track(batcher.add(item('c2')));
    schedule.run();
    await drain();
    // Not posted until the first batch has its answer.
    expect(backend.bodies).toHaveLength(1);

    backend.pending[0].resolve(accept(backend.bodies[0], 1));
    await drain();
    expect(first.value?.request_id).toBe('b1-c1');
    expect(backend.bodies.map(body => body.cells[0].cell_id)).toEqual([
      'c1',
      'c2'
    ]);
    backend.pending[1].resolve(accept(backend.bodies[1], 2));
    await drain();
    expect(second.value?.request_id).toBe('b2-c2');
  });

  it('rejects every cell of a batch when the post fails', async () => {
    backend.manual = true;
    const error = new Error('403: Forbidden');
    const first = batcher.add(item('c1'));
    const second = batcher.add(item('c2'));
    schedule.run();
    await drain();
    backend.pending[0].reject(error);
    await expect(first).rejects.toBe(error);
    await expect(second).rejects.toBe(error);
  });

  it('rejects every cell of a batch when the server accepts fewer cells', async () => {
    backend.manual = true;
    const first = batcher.add(item('c1'));
    const second = batcher.add(item('c2'));
    schedule.run();
    await drain();
    backend.pending[0].resolve([{ request_id: 'r1', cell_id: 'c1' }]);
    await expect(first).rejects.toThrow('The server accepted 1 of 2 cells.');
    await expect(second).rejects.toThrow('The server accepted 1 of 2 cells.');
  });

  it('rejects every cell of a batch when the server accepts more cells', async () => {
    backend.manual = true;
    const only = batcher.add(item('c1'));
    schedule.run();
    await drain();
    backend.pending[0].resolve([
      { request_id: 'r1', cell_id: 'c1' },
      { request_id: 'r2', cell_id: 'c1' }
    ]);
    await expect(only).rejects.toThrow('The server accepted 2 of 1 cells.');
  });

  it('goes on with the next batch after a failed one', async () => {
    backend.manual = true;
    const a = batcher.add(item('a1', { documentId: 'doc-a' }));
    const b = batcher.add(item('b1', { documentId: 'doc-b' }));
    schedule.run();
    await drain();
    backend.pending[0].reject(new Error('network down'));
    await expect(a).rejects.toThrow('network down');
    await drain();

    expect(backend.bodies).toHaveLength(2);
    backend.pending[1].resolve(accept(backend.bodies[1], 2));
    await expect(b).resolves.toEqual({ request_id: 'b2-b1', cell_id: 'b1' });

    const c = batcher.add(item('c1'));
    schedule.run();
    await drain();
    backend.pending[2].resolve(accept(backend.bodies[2], 3));
    await expect(c).resolves.toEqual({ request_id: 'b3-c1', cell_id: 'c1' });
  });

  it('rejects when the backend throws synchronously', async () => {
    const throwing: IExecutionBackend = {
      info: () => Promise.resolve(null),
      execute: () => {
        throw new Error('boom');
      }
    };
    const local = new ExecutionBatcher(throwing, schedule.schedule);
    const accepted = local.add(item('c1'));
    schedule.run();
    await expect(accepted).rejects.toThrow('boom');
  });
});

describe('ExecutionBatcher with the default schedule', () => {
  it('groups the cells added in one tick into one request', async () => {
    const backend = new RecordingBackend();
    const batcher = new ExecutionBatcher(backend);
    const accepted = await Promise.all([
      batcher.add(item('c1')),
      batcher.add(item('c2')),
      batcher.add(item('c3'))
    ]);
    expect(accepted.map(request => request.cell_id)).toEqual([
      'c1',
      'c2',
      'c3'
    ]);
    expect(backend.bodies).toHaveLength(1);
    expect(backend.bodies[0].cells.map(cell => cell.cell_id)).toEqual([
      'c1',
      'c2',
      'c3'
    ]);
  });

  it('defers the post to a later macrotask', async () => {
    const backend = new RecordingBackend();
    const batcher = new ExecutionBatcher(backend);
    const accepted = batcher.add(item('c1'));
    // Microtasks alone do not flush.
    await Promise.resolve();
    await Promise.resolve();
    expect(backend.bodies).toHaveLength(0);
    await expect(accepted).resolves.toEqual({
      request_id: 'b1-c1',
      cell_id: 'c1'
    });
    expect(backend.bodies).toHaveLength(1);
  });

  it('sends cells added in separate ticks as separate requests, in order', async () => {
    const backend = new RecordingBackend();
    const batcher = new ExecutionBatcher(backend);
    const first = await batcher.add(item('c1'));
    const second = await batcher.add(item('c2'));
    expect(first.request_id).toBe('b1-c1');
    expect(second.request_id).toBe('b2-c2');
    expect(backend.bodies.map(body => body.cells[0].cell_id)).toEqual([
      'c1',
      'c2'
    ]);
  });

  it('rejects a whole batch on a length mismatch', async () => {
    const short: IExecutionBackend = {
      info: () => Promise.resolve(null),
      execute: () => Promise.resolve([])
    };
    const batcher = new ExecutionBatcher(short);
    const first = batcher.add(item('c1'));
    const second = batcher.add(item('c2'));
    await expect(first).rejects.toThrow('The server accepted 0 of 2 cells.');
    await expect(second).rejects.toThrow('The server accepted 0 of 2 cells.');
  });
});
