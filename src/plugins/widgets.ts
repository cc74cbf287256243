/**
 * The plugin that makes ipywidgets work under server execution, from the server's mirror
 * of the widget models in the shared document (widgets/hooks.ts, widgets/panelSync.ts). It does
 * nothing when the ipywidgets extension is not installed.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';
import { DisposableDelegate } from '@lumino/disposable';

import { ICollabExecClient, ICollabExecTrust } from '../server/tokens';

/**
 * The settings of the widget extension, whose "save widget state" a manager made here
 * honours as the extension's own managers do.
 */
const WIDGET_EXTENSION_SETTINGS = '@jupyter-widgets/jupyterlab-manager:plugin';

export const widgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:widgets',
  description:
    'Renders ipywidgets of server-run cells from the shared document, as far as the server confirms it: views wait for models that are live, closed models show nothing, a late kernel gets a widget manager, and models follow the doc.',
  autoStart: true,
  // What it builds from the doc, the server confirms first.
  requires: [ICollabExecTrust, ICollabExecClient],
  optional: [ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    trust: ICollabExecTrust,
    client: ICollabExecClient,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    // The hooks go on the widget manager's classes before any notebook makes a manager.
    const loading = Promise.all([
      import('@jupyter-widgets/jupyterlab-manager'),
      import('@jupyter-widgets/base'),
      import('../widgets/hooks'),
      import('../widgets/kernelUpdates'),
      import('../widgets/panelSync'),
      import('../widgets/values')
    ]).then(([manager, base, hooks, kernelUpdates, sync, values]) => {
      kernelUpdates.coalesceKernelUpdates(base.WidgetModel);
      return {
        sync,
        hooks: new hooks.WidgetManagerHooks(
          manager,
          trust,
          new values.WidgetValues(client),
          translator ?? undefined
        )
      };
    });
    if (settingRegistry) {
      void Promise.all([
        loading,
        settingRegistry.load(WIDGET_EXTENSION_SETTINGS)
      ]).then(
        ([{ hooks }, settings]) => {
          const follow = () => {
            hooks.managerSettings.saveState =
              settings.get('saveState').composite === true;
          };
          follow();
          settings.changed.connect(follow);
        },
        () => undefined
      );
    }
    loading.catch(() => {
      console.info(
        'jupyterlab-collab-exec: ipywidgets is not installed; widgets are left as they are.'
      );
    });
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel) => {
        let sync: { dispose(): void } | null = null;
        let disposed = false;
        void loading
          .then(({ sync: module, hooks }) => {
            if (!disposed && !panel.isDisposed) {
              sync = new module.WidgetPanelSync(panel, hooks);
            }
          })
          .catch(() => undefined);
        return new DisposableDelegate(() => {
          disposed = true;
          sync?.dispose();
        });
      }
    });
  }
};
