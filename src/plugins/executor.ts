/**
 * The plugin that provides the cell executor: code cells of collaborative notebooks run
 * on the server, writing outputs into the shared document.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookCellExecutor, runCell } from '@jupyterlab/notebook';

// The executor token must be provided while the application starts.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { ServerCellExecutor } from '../execution/executor';
import { ICollabExecClient, ICollabExecSettings } from '../server/tokens';

export const executorPlugin: JupyterFrontEndPlugin<INotebookCellExecutor> = {
  id: 'jupyterlab-collab-exec:executor',
  description:
    'Runs code cells of collaborative notebooks on the server, writing outputs into the shared document.',
  autoStart: true,
  provides: INotebookCellExecutor,
  requires: [ICollabExecClient, ICollabExecSettings],
  activate: (
    app: JupyterFrontEnd,
    client: ICollabExecClient,
    settings: ICollabExecSettings
  ): INotebookCellExecutor =>
    new ServerCellExecutor({
      backend: client,
      fallback: Object.freeze({ runCell }),
      isEnabled: () => settings.serverExecution
    })
};
