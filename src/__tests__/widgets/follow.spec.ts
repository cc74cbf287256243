import type { IWidgetModelEntry } from '../../doc/schema';
import {
  entryWireState,
  serializedValue,
  stateToFollow as followWire,
  wireEqual
} from '../../widgets/follow';
import { TestManager } from './testManager';

function entry(
  modelName: string,
  state: Record<string, unknown>,
  buffers?: IWidgetModelEntry['buffers']
): IWidgetModelEntry {
  return {
    model_name: modelName,
    model_module: '@jupyter-widgets/controls',
    model_module_version: '2.0.0',
    state,
    buffers,
    live: true,
    closed: false
  };
}

/**
 * What a model must take to match an entry whose values are all inline.
 */
function stateToFollow(
  model: Parameters<typeof followWire>[0],
  doc: IWidgetModelEntry,
  manager: Parameters<typeof followWire>[2]
): ReturnType<typeof followWire> {
  return followWire(model, entryWireState(doc)!, manager);
}

function base64(bytes: number[]): string {
  return btoa(String.fromCharCode(...bytes));
}

describe('following the doc with the model class serializers', () => {
  it('gives a DatePicker a Date, and sees no change when the dates match', async () => {
    const manager = new TestManager();
    const model = await manager.controlsModel('DatePickerModel', 'dp', {
      value: { year: 2024, month: 4, date: 17 }
    });
    expect(model.get('value')).toBeInstanceOf(Date);

    // The doc holds what the kernel sent: the same date, in wire form.
    const same = entry('DatePickerModel', {
      value: { year: 2024, month: 4, date: 17 }
    });
    expect(await stateToFollow(model, same, manager)).toBeNull();

    const later = entry('DatePickerModel', {
      value: { year: 2025, month: 0, date: 2 }
    });
    const state = await stateToFollow(model, later, manager);
    expect(state?.value).toBeInstanceOf(Date);
    model.set_state(state ?? {});
    const value = model.get('value') as Date;
    expect([
      value.getUTCFullYear(),
      value.getUTCMonth(),
      value.getUTCDate()
    ]).toEqual([2025, 0, 2]);
    expect(serializedValue(model, 'value')).toEqual({
      year: 2025,
      month: 0,
      date: 2
    });
    expect(await stateToFollow(model, later, manager)).toBeNull();
  });

  it('follows a null date', async () => {
    const manager = new TestManager();
    const model = await manager.controlsModel('DatePickerModel', 'dp', {
      value: { year: 2024, month: 4, date: 17 }
    });
    const state = await stateToFollow(
      model,
      entry('DatePickerModel', { value: null }),
      manager
    );
    expect(state).toEqual({ value: null });
  });

  it('follows the bytes of an Image, held in the doc as a base64 buffer', async () => {
    const manager = new TestManager();
    const model = await manager.controlsModel('ImageModel', 'img', {
      format: 'png'
    });
    const doc = entry('ImageModel', { format: 'png', value: null }, [
      { path: ['value'], encoding: 'base64', data: base64([1, 2, 3, 250]) }
    ]);
    const state = await stateToFollow(model, doc, manager);
    expect(Object.keys(state ?? {})).toEqual(['value']);
    model.set_state(state ?? {});
    const bytes = new Uint8Array((model.get('value') as DataView).buffer);
    expect([...bytes]).toEqual([1, 2, 3, 250]);
    expect(await stateToFollow(model, doc, manager)).toBeNull();

    const next = entry('ImageModel', { format: 'png', value: null }, [
      { path: ['value'], encoding: 'base64', data: base64([1, 2, 3, 251]) }
    ]);
    expect(
      Object.keys((await stateToFollow(model, next, manager)) ?? {})
    ).toEqual(['value']);
  });

  it('resolves model references through the deserializers, once the manager holds them', async () => {
    const manager = new TestManager();
    const first = await manager.controlsModel(
      'LayoutModel',
      'layout-1',
      {},
      '@jupyter-widgets/base'
    );
    const model = await manager.controlsModel('DatePickerModel', 'dp', {
      layout: 'IPY_MODEL_layout-1'
    });
    expect(model.get('layout')).toBe(first);

    const unknown = entry('DatePickerModel', { layout: 'IPY_MODEL_layout-2' });
    expect(await stateToFollow(model, unknown, manager)).toBeNull();

    const second = await manager.controlsModel(
      'LayoutModel',
      'layout-2',
      {},
      '@jupyter-widgets/base'
    );
    const state = await stateToFollow(model, unknown, manager);
    expect(state?.layout).toBe(second);
  });

  it('leaves out the protocol keys and what this browser has not had echoed', async () => {
    const manager = new TestManager();
    const model = await manager.controlsModel('DatePickerModel', 'dp', {
      value: { year: 2024, month: 4, date: 17 },
      description: 'When'
    });
    const doc = entry('DatePickerModel', {
      _model_name: 'SomethingElse',
      value: { year: 2030, month: 1, date: 1 },
      description: 'Due'
    });
    (
      model as unknown as { _expectedEchoMsgIds: Map<string, string> }
    )._expectedEchoMsgIds.set('value', 'msg-1');
    expect(await stateToFollow(model, doc, manager)).toEqual({
      description: 'Due'
    });
  });
});

describe('wireEqual', () => {
  it('compares binary values by their bytes, whatever holds them', () => {
    const bytes = new Uint8Array([5, 6, 7, 8]);
    expect(wireEqual(new DataView(bytes.buffer), bytes)).toBe(true);
    expect(wireEqual(new Float32Array([1.5]), new Float32Array([1.5]))).toBe(
      true
    );
    expect(
      wireEqual(new DataView(bytes.buffer, 1, 2), new Uint8Array([6, 7]))
    ).toBe(true);
    expect(wireEqual(bytes, new Uint8Array([5, 6, 7]))).toBe(false);
    expect(wireEqual(bytes, [5, 6, 7, 8])).toBe(false);
  });

  it('compares JSON by value, an absent key as undefined', () => {
    expect(wireEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(
      true
    );
    expect(wireEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(wireEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(wireEqual([1, 2], [2, 1])).toBe(false);
    expect(wireEqual(null, undefined)).toBe(true);
  });

  it('puts the buffers of an entry back at their paths', () => {
    const state = entryWireState(
      entry('ImageModel', { value: null, nested: { list: [0, null] } }, [
        { path: ['value'], encoding: 'base64', data: base64([9]) },
        { path: ['nested', 'list', 1], encoding: 'base64', data: base64([7]) }
      ])
    )!;
    expect(wireEqual(state.value, new Uint8Array([9]))).toBe(true);
    const nested = state.nested as { list: unknown[] };
    expect(nested.list[0]).toBe(0);
    expect(wireEqual(nested.list[1], new Uint8Array([7]))).toBe(true);
  });

  it('takes the referenced values from those given, by digest, and is null without one', () => {
    const digest = 'a'.repeat(64);
    const named = entry('ImageModel', { value: null }, [
      { path: ['value'], encoding: 'ref', ref: `sha256:${digest}`, size: 2 }
    ]);
    expect(entryWireState(named)).toBeNull();
    const state = entryWireState(
      named,
      new Map([[digest, new Uint8Array([4, 2]).buffer]])
    )!;
    expect(wireEqual(state.value, new Uint8Array([4, 2]))).toBe(true);
  });
});
