/**
 * The plugin of the collaborative input widget: every input a kernel waits for, in every
 * view of the notebook, answerable by anyone.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator } from '@jupyterlab/translation';

import { lazyNotebookExtension } from './notebookExtension';
import { ICollabExecClient } from '../server/tokens';

export const inputPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:input',
  description:
    'Shows the input() and getpass() prompts that kernels wait for in every view of a collaborative notebook, where anyone can answer them.',
  autoStart: true,
  requires: [ICollabExecClient],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: ICollabExecClient,
    translator: ITranslator | null
  ): void => {
    const extension = lazyNotebookExtension({
      what: 'the inputs',
      load: () => import('../input/placement'),
      attach: (input, panel) =>
        new input.CellInputTracker({
          notebook: panel.content,
          backend: client,
          translator: translator ?? undefined,
          username: () => app.serviceManager.user.identity?.username ?? null,
          isCurrent: () => app.shell.currentWidget === panel
        })
    });
    app.docRegistry.addWidgetExtension('Notebook', extension);
  }
};
