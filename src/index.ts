import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookCellExecutor, runCell } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { CollabExecClient } from './api';
// The executor token must be provided while the application starts.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ServerCellExecutor } from './executor';

const PLUGIN_ID = 'jupyterlab-collab-exec:plugin';

/**
 * The cell executor: code cells of collaborative notebooks run on the server.
 */
const executorPlugin: JupyterFrontEndPlugin<INotebookCellExecutor> = {
  id: PLUGIN_ID,
  description:
    'Runs code cells of collaborative notebooks on the server, writing outputs into the shared document.',
  autoStart: true,
  provides: INotebookCellExecutor,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null
  ): INotebookCellExecutor => {
    let enabled = true;
    const executor = new ServerCellExecutor({
      backend: new CollabExecClient(app.serviceManager.serverSettings),
      fallback: Object.freeze({ runCell }),
      isEnabled: () => enabled
    });
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const update = () => {
            enabled = settings.get('serverExecution').composite !== false;
          };
          update();
          settings.changed.connect(update);
        })
        .catch(reason => {
          console.error('jupyterlab-collab-exec: cannot load settings', reason);
        });
    }
    return executor;
  }
};

export default [executorPlugin];
