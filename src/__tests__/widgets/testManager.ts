/**
 * A widget manager for the specs: ipywidgets' own base manager, with the real model
 * classes of `@jupyter-widgets/base` and `@jupyter-widgets/controls`, and no kernel.
 */
import * as base from '@jupyter-widgets/base';
import { ManagerBase } from '@jupyter-widgets/base-manager';
import { DatePickerModel } from '@jupyter-widgets/controls/lib/widget_date';
import { ImageModel } from '@jupyter-widgets/controls/lib/widget_image';
import { CoreDOMWidgetModel } from '@jupyter-widgets/controls/lib/widget_core';
import type { JSONObject } from '@lumino/coreutils';

const CLASSES: Record<string, Record<string, unknown>> = {
  '@jupyter-widgets/base': base as unknown as Record<string, unknown>,
  '@jupyter-widgets/controls': {
    DatePickerModel,
    ImageModel,
    CoreDOMWidgetModel
  }
};

export class TestManager extends ManagerBase {
  protected async loadClass(
    className: string,
    moduleName: string
  ): Promise<typeof base.WidgetModel | typeof base.WidgetView> {
    const found = CLASSES[moduleName]?.[className];
    if (!found) {
      throw new Error(`No class ${className} in ${moduleName}`);
    }
    return found as typeof base.WidgetModel;
  }

  protected _create_comm(): Promise<base.IClassicComm> {
    return Promise.reject(new Error('No kernel in the specs'));
  }

  protected _get_comm_info(): Promise<JSONObject> {
    return Promise.resolve({});
  }

  /**
   * A model of the controls package, built from its wire state as a kernel's comm_open
   * builds it.
   */
  async controlsModel(
    modelName: string,
    modelId: string,
    state: JSONObject,
    moduleName = '@jupyter-widgets/controls'
  ): Promise<base.WidgetModel> {
    return this.new_model(
      {
        model_name: modelName,
        model_module: moduleName,
        model_module_version: '*',
        model_id: modelId
      },
      state
    );
  }
}
