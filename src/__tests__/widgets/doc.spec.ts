import * as Y from 'yjs';

import { parseWidgetEntry, WidgetDoc } from '../../widgets/doc';

function writeModel(
  doc: Y.Doc,
  modelId: string,
  fields: Record<string, unknown>
): void {
  const root = doc.getMap<unknown>('collab_widgets');
  let models = root.get('models');
  if (!(models instanceof Y.Map)) {
    models = new Y.Map();
    root.set('models', models);
  }
  const entry = new Y.Map<unknown>();
  (models as Y.Map<unknown>).set(modelId, entry);
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'state' && value !== undefined) {
      const state = new Y.Map<unknown>();
      entry.set('state', state);
      for (const [name, item] of Object.entries(value as object)) {
        state.set(name, item);
      }
    } else if (value !== undefined) {
      entry.set(key, value);
    }
  }
}

const SLIDER = {
  model_name: 'IntSliderModel',
  model_module: '@jupyter-widgets/controls',
  model_module_version: '2.0.0',
  state: { value: 3 },
  live: true
};

describe('WidgetDoc', () => {
  it('tells live, closed and frozen models apart', () => {
    const doc = new Y.Doc();
    writeModel(doc, 'live', SLIDER);
    writeModel(doc, 'closed', { ...SLIDER, live: false, closed: true });
    writeModel(doc, 'frozen', { ...SLIDER, live: false });
    const widgets = new WidgetDoc(doc);
    expect(widgets.isLive('live')).toBe(true);
    expect(widgets.isClosed('live')).toBe(false);
    expect(widgets.isLive('closed')).toBe(false);
    expect(widgets.isClosed('closed')).toBe(true);
    expect(widgets.isLive('frozen')).toBe(false);
    expect(widgets.isClosed('frozen')).toBe(false);
    expect(widgets.isLive('absent')).toBe(false);
    expect(widgets.model('live')?.state).toEqual({ value: 3 });
  });

  it('ignores malformed entries that a client wrote', () => {
    const doc = new Y.Doc();
    writeModel(doc, 'no-state', { ...SLIDER, state: undefined });
    (doc.getMap<unknown>('collab_widgets').get('models') as Y.Map<unknown>).set(
      'not-a-map',
      'x'
    );
    const widgets = new WidgetDoc(doc);
    expect(widgets.model('no-state')).toBeNull();
    expect(widgets.model('not-a-map')).toBeNull();
    expect(parseWidgetEntry({ ...SLIDER, live: 'yes' })).toBeNull();
    expect(parseWidgetEntry({ ...SLIDER, state: [] })).toBeNull();
    expect(parseWidgetEntry(null)).toBeNull();
  });

  it('keeps buffers inline or referenced by a SHA-256, and drops malformed ones', () => {
    const digest = 'c'.repeat(64);
    const referenced = {
      path: ['b', 0],
      encoding: 'ref',
      ref: `sha256:${digest}`,
      size: 12
    };
    const parsed = parseWidgetEntry({
      ...SLIDER,
      buffers: [
        { path: ['a'], encoding: 'base64', data: 'AAE=' },
        referenced,
        { path: ['c'], encoding: 'ref', ref: 'sha256:../etc/passwd', size: 1 },
        { path: ['c'], encoding: 'ref', ref: digest, size: 1 },
        { path: ['c'], encoding: 'ref', ref: `sha256:${digest}` },
        // The form before references: not read.
        { path: ['c'], encoding: 'sha256', data: digest },
        { path: ['d'], encoding: 'hex', data: '00' },
        { path: [{}], encoding: 'base64', data: 'AA==' }
      ]
    });
    expect(parsed?.buffers).toEqual([
      { path: ['a'], encoding: 'base64', data: 'AAE=' },
      referenced
    ]);
  });

  it('names the models that a change touched', () => {
    const doc = new Y.Doc();
    writeModel(doc, 'a', SLIDER);
    writeModel(doc, 'b', SLIDER);
    const widgets = new WidgetDoc(doc);
    const seen: string[][] = [];
    widgets.root.observeDeep(events => {
      seen.push([...WidgetDoc.changedModels(events)].sort());
    });
    const models = widgets.root.get('models') as Y.Map<Y.Map<unknown>>;
    (models.get('a')!.get('state') as Y.Map<unknown>).set('value', 4);
    doc.transact(() => {
      models.get('b')!.set('live', false);
      writeModel(doc, 'c', SLIDER);
    });
    expect(seen).toEqual([['a'], ['b', 'c']]);
  });
});
