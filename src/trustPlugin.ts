/**
 * The plugin that trusts, in every view, the outputs of the cells that the server ran,
 * as JupyterLab trusts a cell it runs: widgets render for every collaborator.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { lazyNotebookExtension } from './notebookExtension';

export const trustPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:trust',
  description:
    'Trusts, in every view, the outputs of the cells that the server ran for a collaborator, as JupyterLab trusts a cell it runs.',
  autoStart: true,
  activate: (app: JupyterFrontEnd): void => {
    const extension = lazyNotebookExtension({
      what: 'the trust of server-run cells',
      load: () => import('./cellTrust'),
      attach: (trust, panel) => new trust.ServerRunTrust(panel.content)
    });
    app.docRegistry.addWidgetExtension('Notebook', extension);
  }
};
