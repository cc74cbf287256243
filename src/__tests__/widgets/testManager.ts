/**
 * What the widget specs share: a widget manager (ipywidgets' own base manager, with the
 * real model classes of `@jupyter-widgets/base` and `@jupyter-widgets/controls`, and no
 * kernel), and the server's side of trust.
 */
import * as base from '@jupyter-widgets/base';
import { ManagerBase } from '@jupyter-widgets/base-manager';
import { DatePickerModel } from '@jupyter-widgets/controls/lib/widget_date';
import { ImageModel } from '@jupyter-widgets/controls/lib/widget_image';
import { CoreDOMWidgetModel } from '@jupyter-widgets/controls/lib/widget_core';
import type { JSONObject } from '@lumino/coreutils';

import type { CellVerdict } from '../../server/backends';
import type { ICollabExecTrust } from '../../server/tokens';

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

/**
 * The server's side of trust for the widget specs: it confirms the entries it wrote into
 * one document, by digest.
 */
export class ServerTrust implements ICollabExecTrust {
  constructor(readonly documentId: string) {}

  written = new Map<string, string>();

  async enabled(): Promise<boolean> {
    return true;
  }

  async cellVerdict(): Promise<CellVerdict> {
    return 'unknown';
  }

  async modelConfirmed(
    documentId: string,
    modelId: string,
    digest: string
  ): Promise<boolean> {
    return (
      documentId === this.documentId && this.written.get(modelId) === digest
    );
  }

  async widgetStateConfirmed(): Promise<boolean> {
    return false;
  }
}
