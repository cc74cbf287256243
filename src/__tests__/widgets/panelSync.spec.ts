import * as manager from '@jupyter-widgets/jupyterlab-manager';
import { WidgetModel } from '@jupyter-widgets/base';
import type { Context } from '@jupyterlab/docregistry';
import type { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import * as Y from 'yjs';

import type { IWidgetModelEntry } from '../../doc/schema';
import { widgetEntryDigest } from '../../trust/digests';
import { WidgetManagerHooks } from '../../widgets/hooks';
import { WidgetPanelSync } from '../../widgets/panelSync';
import { WidgetValues } from '../../widgets/values';
import { ServerTrust } from './testManager';

const DOCUMENT = 'json:notebook:panel';

/**
 * A third-party widget library that only the page's share scope holds.
 */
class FancyModel extends WidgetModel {}

describe('WidgetPanelSync of a view with no kernel', () => {
  let context: Context<INotebookModel>;
  let panel: NotebookPanel;

  beforeEach(async () => {
    context = await NBTestUtils.createMockContext(false);
    context.model.sharedModel.setState('document_id', DOCUMENT);
    panel = NBTestUtils.createNotebookPanel(context);
    (
      globalThis as unknown as { __webpack_share_scopes__?: unknown }
    ).__webpack_share_scopes__ = {
      default: {
        fancy: {
          '1.2.0': { get: async () => () => ({ FancyModel }) }
        }
      }
    };
  });

  afterEach(() => {
    panel.dispose();
    context.dispose();
    Reflect.deleteProperty(globalThis, '__webpack_share_scopes__');
  });

  it('gets a manager of its own, which builds frozen models, a third-party one from the share scope', async () => {
    const trust = new ServerTrust(DOCUMENT);
    const hooks = new WidgetManagerHooks(
      manager,
      trust,
      new WidgetValues({
        widgetValue: () => Promise.reject(new Error('none'))
      })
    );
    const ydoc = (context.model.sharedModel as unknown as { ydoc: Y.Doc }).ydoc;
    const entry: IWidgetModelEntry = {
      model_name: 'FancyModel',
      model_module: 'fancy',
      model_module_version: '^1.0.0',
      state: { value: 3 },
      live: false
    };
    const models = new Y.Map<unknown>();
    ydoc.getMap<unknown>('collab_widgets').set('models', models);
    const map = new Y.Map<unknown>();
    models.set('fancy-1', map);
    map.set('model_name', entry.model_name);
    map.set('model_module', entry.model_module);
    map.set('model_module_version', entry.model_module_version);
    map.set('state', new Y.Map<unknown>(Object.entries(entry.state)));
    map.set('live', false);
    trust.written.set('fancy-1', widgetEntryDigest(entry)!);

    const sync = new WidgetPanelSync(panel, hooks);
    const deadline = Date.now() + 10000;
    while (!hooks.managerOf(context)?.has_model('fancy-1')) {
      if (Date.now() > deadline) {
        throw new Error('no manager built the model');
      }
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    const built = await hooks.managerOf(context)!.get_model('fancy-1');
    expect(built).toBeInstanceOf(FancyModel);
    expect(built.get('value')).toBe(3);
    sync.dispose();
    expect(sync.isDisposed).toBe(true);
  });
});
