import { WidgetModel } from '@jupyter-widgets/base';
import type { KernelMessage } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';

import { MODEL_COMM_HANDLER } from '../../widgets/internals';
import {
  coalesceKernelUpdates,
  followedDoc,
  headerKernelTime,
  receivedKernelTime
} from '../../widgets/kernelUpdates';
import { TestManager } from './testManager';

/**
 * The next task, released by the spec: the messages "already received" are those the
 * spec hands the model before it releases it.
 */
class Tasks {
  next = (): Promise<void> => {
    const task = new PromiseDelegate<void>();
    this._waiting.push(task);
    return task.promise;
  };

  async release(): Promise<void> {
    for (const task of this._waiting.splice(0)) {
      task.resolve();
    }
    await flush();
  }

  private _waiting: PromiseDelegate<void>[] = [];
}

let clock = 0;
const tasks = new Tasks();
coalesceKernelUpdates(WidgetModel, { now: () => clock, nextTask: tasks.next });

function kernelMessage(
  method: string,
  state: Record<string, unknown>,
  buffers: DataView[] = [],
  date?: string
): KernelMessage.ICommMsgMsg {
  return {
    header: { msg_type: 'comm_msg', ...(date ? { date } : {}) },
    parent_header: {},
    metadata: {},
    content: {
      comm_id: 'comm',
      data: {
        method,
        state,
        ...(buffers.length ? { buffer_paths: [['data']] } : {})
      }
    },
    buffers
  } as unknown as KernelMessage.ICommMsgMsg;
}

async function flush(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) {
    await Promise.resolve();
  }
}

/**
 * A model as the kernel's comm_open makes it, and the values it took, in order.
 */
async function watchedModel(
  state: Record<string, unknown> = {}
): Promise<{ model: WidgetModel; seen: unknown[] }> {
  const model = await new TestManager().controlsModel(
    'WidgetModel',
    `model-${Math.random()}`,
    { value: 0, ...state },
    '@jupyter-widgets/base'
  );
  const seen: unknown[] = [];
  model.on('change:value', () => seen.push(model.get('value')));
  return { model, seen };
}

/**
 * The kernel connection's handling of one message: it waits for what the model returns.
 */
async function receive(
  model: WidgetModel,
  method: string,
  state: Record<string, unknown>,
  buffers?: DataView[],
  date?: string
): Promise<void> {
  await model._handle_comm_msg(kernelMessage(method, state, buffers, date));
}

/**
 * The kernel's header date of a message sent `micros` microseconds after a second.
 */
function at(micros: number): string {
  return `2026-12-06T08:10:00.${String(micros).padStart(6, '0')}Z`;
}

const SECOND = Date.parse('2026-12-06T08:10:00Z') * 1000;

describe('coalesceKernelUpdates', () => {
  beforeEach(() => {
    clock = 1000;
  });

  it('applies a burst of updates as the first one and then the latest state', async () => {
    const { model, seen } = await watchedModel();
    for (let value = 1; value <= 100; value++) {
      await receive(model, 'update', { value, description: `step ${value}` });
    }
    await flush();
    expect(seen).toEqual([1]);
    await tasks.release();
    expect(seen).toEqual([1, 100]);
    expect(model.get('description')).toBe('step 100');
  });

  it('applies updates one by one when they come slower than a burst', async () => {
    const { model, seen } = await watchedModel();
    for (let value = 1; value <= 5; value++) {
      clock += 20;
      await receive(model, 'update', { value });
    }
    await flush();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps the kernel's order around a message that is not merged", async () => {
    const { model, seen } = await watchedModel();
    await receive(model, 'update', { value: 1 });
    await receive(model, 'update', { value: 2 });
    // Another browser's change, echoed by the kernel: the manager's own path handles it,
    // after the batch before it (the kernel connection waits for that meanwhile).
    const echoed = receive(model, 'echo_update', { value: 3 });
    await tasks.release();
    await echoed;
    await receive(model, 'update', { value: 4 });
    await receive(model, 'update', { value: 5 });
    expect(seen).toEqual([1, 2, 3]);
    await tasks.release();
    expect(seen).toEqual([1, 2, 3, 5]);
    expect(model.get('value')).toBe(5);
  });

  it('hands updates with binary buffers, and those of an Output widget, on one by one', async () => {
    const { model } = await watchedModel();
    const received: DataView[] = [];
    model.on('change:data', () => received.push(model.get('data')));
    for (const byte of [1, 2, 3]) {
      await receive(model, 'update', {}, [
        new DataView(new Uint8Array([byte]).buffer)
      ]);
    }
    await flush();
    expect(received.map(view => view.getUint8(0))).toEqual([1, 2, 3]);

    const output = await watchedModel({ _model_name: 'OutputModel' });
    for (const value of [1, 2, 3]) {
      await receive(output.model, 'update', { value });
    }
    await flush();
    expect(output.seen).toEqual([1, 2, 3]);
  });

  it('is installed once, and not at all on a class without the comm handler', () => {
    const handler = Reflect.get(WidgetModel.prototype, MODEL_COMM_HANDLER);
    coalesceKernelUpdates(WidgetModel);
    expect(Reflect.get(WidgetModel.prototype, MODEL_COMM_HANDLER)).toBe(
      handler
    );

    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    class Renamed {}
    coalesceKernelUpdates(Renamed as unknown as typeof WidgetModel);
    expect(Reflect.get(Renamed.prototype, MODEL_COMM_HANDLER)).toBeUndefined();
    expect(warn.mock.calls[0][1]).toEqual([
      `WidgetModel.prototype.${MODEL_COMM_HANDLER}`
    ]);
    warn.mockRestore();
  });

  it('reads a header date to the microsecond, as the server does', () => {
    expect(headerKernelTime(at(123456))).toBe(SECOND + 123456);
    expect(headerKernelTime('2026-12-06T08:10:00.5+00:00')).toBe(
      SECOND + 500000
    );
    expect(headerKernelTime('2026-12-06T09:10:00.000001+01:00')).toBe(
      SECOND + 1
    );
    expect(headerKernelTime('2026-12-06T08:10:00Z')).toBe(SECOND);
    for (const malformed of ['', 'yesterday', 42, undefined]) {
      expect(headerKernelTime(malformed)).toBeNull();
    }
  });

  it("drops the kernel's updates that are not newer than the doc state a copy took", async () => {
    const { model, seen } = await watchedModel();
    await receive(model, 'update', { value: 1 }, [], at(10));
    expect(receivedKernelTime(model)).toBe(SECOND + 10);
    // The copy took the doc's state of time 30 (value 3), while 20 and 30 were on the way.
    model.set_state({ value: 3 });
    followedDoc(model, SECOND + 30);
    clock += 20;
    await receive(model, 'update', { value: 2 }, [], at(20));
    await receive(model, 'update', { value: 3 }, [], at(30));
    await receive(model, 'echo_update', { value: 3 }, [], at(30));
    clock += 20;
    await receive(model, 'update', { value: 4 }, [], at(40));
    await flush();
    expect(seen).toEqual([1, 3, 4]);
    expect(receivedKernelTime(model)).toBe(SECOND + 40);
  });

  it('leaves out a batch that the doc state a copy took meanwhile is newer than', async () => {
    const { model, seen } = await watchedModel();
    await receive(model, 'update', { value: 1 }, [], at(10));
    await receive(model, 'update', { value: 2 }, [], at(20));
    await receive(model, 'update', { value: 3 }, [], at(30));
    model.set_state({ value: 5 });
    followedDoc(model, SECOND + 50);
    await tasks.release();
    expect(seen).toEqual([1, 5]);
    // A batch with a message of no date is never taken as stale.
    await receive(model, 'update', { value: 6 }, [], at(60));
    await receive(model, 'update', { value: 7 });
    followedDoc(model, SECOND + 70);
    await tasks.release();
    expect(seen).toEqual([1, 5, 7]);
  });
});
