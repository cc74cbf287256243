import { WidgetModel } from '@jupyter-widgets/base';
import { WidgetManager } from '@jupyter-widgets/jupyterlab-manager/lib/manager';
import { WidgetRenderer } from '@jupyter-widgets/jupyterlab-manager/lib/renderer';

import {
  missingInternals,
  rendererManager,
  unechoedKeys
} from '../../widgets/internals';
import { TestManager } from './testManager';

const MIME_TYPE = 'application/vnd.jupyter.widget-view+json';

describe('the widget internals that the extension touches', () => {
  it('are all there in the installed widget packages', async () => {
    const model = await new TestManager().controlsModel(
      'DatePickerModel',
      'dp',
      {}
    );
    const renderer = new WidgetRenderer({
      mimeType: MIME_TYPE,
      sanitizer: { sanitize: (html: string) => html },
      resolver: null,
      linkHandler: null,
      latexTypesetter: null
    } as unknown as ConstructorParameters<typeof WidgetRenderer>[0]);
    expect(
      missingInternals({
        managerClass: WidgetManager,
        rendererClass: WidgetRenderer,
        modelClass: WidgetModel,
        renderer,
        model
      })
    ).toEqual([]);
    expect(rendererManager(renderer)).toBeInstanceOf(Promise);
    renderer.dispose();
  });

  it('names what a release no longer has', () => {
    class Renamed {}
    const bare = new WidgetModel({}, {
      model_id: 'm',
      widget_manager: new TestManager()
    } as ConstructorParameters<typeof WidgetModel>[1]);
    Reflect.deleteProperty(bare, '_msg_buffer');
    expect(
      missingInternals({
        managerClass: Renamed,
        rendererClass: Renamed,
        modelClass: Renamed,
        renderer: {},
        model: bare
      })
    ).toEqual([
      'WidgetManager.prototype.restoreWidgets',
      'WidgetManager.prototype._loadFromNotebook',
      'WidgetManager.prototype.register',
      'WidgetManager.prototype.register_model',
      'WidgetManager.prototype.get_model',
      'WidgetManager.prototype._create_comm',
      'WidgetRenderer.prototype.renderModel',
      'WidgetModel.prototype._handle_comm_msg',
      'WidgetRenderer._manager',
      'WidgetModel._msg_buffer'
    ]);
  });

  it('tells the attributes waiting for the kernel echo, sent or buffered', async () => {
    const model = await new TestManager().controlsModel(
      'DatePickerModel',
      'dp',
      {}
    );
    // What a kernel's comm does with a sync message: take it and give its id.
    const sent: unknown[] = [];
    model.comm = {
      send: (data: unknown) => {
        sent.push(data);
        return `msg-${sent.length}`;
      }
    } as unknown as typeof model.comm;
    model.comm_live = true;
    expect([...unechoedKeys(model)]).toEqual([]);
    model.set('description', 'first');
    model.save_changes();
    expect([...unechoedKeys(model)]).toEqual(['description']);
    // Sent while the first waits for the kernel's status: buffered, not sent.
    model.set('tooltip', 'second');
    model.save_changes();
    expect(sent).toHaveLength(1);
    expect([...unechoedKeys(model)].sort()).toEqual(['description', 'tooltip']);
  });
});
