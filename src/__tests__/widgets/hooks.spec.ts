import * as manager from '@jupyter-widgets/jupyterlab-manager';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import type { Context } from '@jupyterlab/docregistry';
import type { INotebookModel } from '@jupyterlab/notebook';
import { RenderMimeRegistry } from '@jupyterlab/rendermime';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import * as Y from 'yjs';

import type { IWidgetModelEntry } from '../../doc/schema';
import type { IWidgetValueBackend } from '../../server/backends';
import { widgetEntryDigest } from '../../trust/digests';
import { WidgetManagerHooks } from '../../widgets/hooks';
import { WidgetValues } from '../../widgets/values';
import { ServerTrust } from './testManager';
import { DatePickerModel } from '@jupyter-widgets/controls/lib/widget_date';
import { ImageModel } from '@jupyter-widgets/controls/lib/widget_image';

const DOCUMENT = 'json:notebook:hooks';

class ValueStore implements IWidgetValueBackend {
  values = new Map<string, Uint8Array>();
  async widgetValue(_documentId: string, digest: string): Promise<ArrayBuffer> {
    const value = this.values.get(digest);
    if (!value) {
      throw new Error('none');
    }
    return value.slice().buffer;
  }
}

function write(
  ydoc: Y.Doc,
  trust: ServerTrust,
  modelId: string,
  entry: IWidgetModelEntry
): void {
  const root = ydoc.getMap<unknown>('collab_widgets');
  let models = root.get('models') as Y.Map<unknown> | undefined;
  if (!models) {
    models = new Y.Map();
    root.set('models', models);
  }
  const map = new Y.Map<unknown>();
  models.set(modelId, map);
  const state = new Y.Map<unknown>();
  map.set('model_name', entry.model_name);
  map.set('model_module', entry.model_module);
  map.set('model_module_version', entry.model_module_version);
  map.set('state', state);
  for (const [key, value] of Object.entries(entry.state)) {
    state.set(key, value);
  }
  if (entry.buffers) {
    map.set('buffers', entry.buffers);
  }
  map.set('live', entry.live);
  trust.written.set(modelId, widgetEntryDigest(entry)!);
}

describe('WidgetManagerHooks.buildFromDoc', () => {
  let context: Context<INotebookModel>;

  beforeEach(async () => {
    context = await NBTestUtils.createMockContext(false);
    context.model.sharedModel.setState('document_id', DOCUMENT);
  });

  afterEach(() => {
    context.dispose();
  });

  it('builds the confirmed frozen models of the doc, typed as their classes type them', async () => {
    const trust = new ServerTrust(DOCUMENT);
    const store = new ValueStore();
    const hooks = new WidgetManagerHooks(
      manager,
      trust,
      new WidgetValues(store)
    );
    const png = new Uint8Array(40).fill(7);
    const digest = bytesToHex(sha256(png));
    store.values.set(digest, png);
    const ydoc = (context.model.sharedModel as unknown as { ydoc: Y.Doc }).ydoc;
    const controls = {
      model_module: '@jupyter-widgets/controls',
      model_module_version: '2.0.0',
      live: false
    };
    write(ydoc, trust, 'date', {
      ...controls,
      model_name: 'DatePickerModel',
      state: { value: { year: 2024, month: 4, date: 17 } }
    });
    write(ydoc, trust, 'image', {
      ...controls,
      model_name: 'ImageModel',
      state: { format: 'png' },
      buffers: [
        { path: ['value'], encoding: 'ref', ref: `sha256:${digest}`, size: 40 }
      ]
    });
    // Written by a client, not the server: left out.
    const forged: IWidgetModelEntry = {
      ...controls,
      model_name: 'DatePickerModel',
      state: {}
    };
    write(ydoc, trust, 'forged', forged);
    trust.written.delete('forged');

    const widgets = new manager.WidgetManager(
      context,
      new RenderMimeRegistry(),
      { saveState: false }
    );
    widgets.register({
      name: '@jupyter-widgets/controls',
      version: '2.0.0',
      exports: { DatePickerModel, ImageModel } as never
    });
    await hooks.buildFromDoc(widgets);

    const date = await widgets.get_model('date');
    expect(date.get('value')).toBeInstanceOf(Date);
    expect((date.get('value') as Date).getUTCDate()).toBe(17);
    const image = await widgets.get_model('image');
    expect([
      ...new Uint8Array((image.get('value') as DataView).buffer)
    ]).toEqual([...png]);
    expect(widgets.has_model('forged')).toBe(false);
    expect(hooks.managerOf(context)).toBe(widgets);
    widgets.dispose();
  });
});
