/**
 * The plugin of the status view: a badge on each code cell and the queue in the notebook
 * toolbar, read from the shared document.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ITranslator } from '@jupyterlab/translation';
import { DisposableDelegate } from '@lumino/disposable';

import { CommandIDs } from '../common/commands';
import { lazyNotebookExtension } from './notebookExtension';
import { ICollabExecClient, ICollabExecSettings } from '../server/tokens';

/**
 * The name of the toolbar item.
 */
const TOOLBAR_ITEM = 'collabExecQueue';

export const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:status',
  description:
    'Shows on each cell and in the notebook toolbar what the server runs, queues and waits for, read from the shared document.',
  autoStart: true,
  requires: [ICollabExecClient, ICollabExecSettings],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    client: ICollabExecClient,
    settings: ICollabExecSettings,
    translator: ITranslator | null
  ): void => {
    const extension = lazyNotebookExtension({
      what: 'the status',
      load: () =>
        Promise.all([import('../status/tracker'), import('../status/toolbar')]),
      attach: ([status, toolbar], panel) => {
        const badges = new status.CellStatusTracker({
          notebook: panel.content,
          settings,
          translator: translator ?? undefined
        });
        // The history plugin offers the command when the server keeps a run history.
        void client.info().then(info => {
          badges.setHistoryAvailable(
            !!info?.features.includes('history') &&
              app.commands.hasCommand(CommandIDs.openCellHistory)
          );
        });
        badges.historyRequested.connect((_badges, cellId) => {
          void app.commands.execute(CommandIDs.openCellHistory, {
            path: panel.context.path,
            cellId
          });
        });
        const item = new toolbar.QueueToolbarItem({
          notebook: panel.content,
          sessionContext: panel.sessionContext,
          backend: client,
          serverInfo: client.info(),
          translator: translator ?? undefined
        });
        // Before the spacer, so that it stays visible when the toolbar overflows.
        if (!panel.toolbar.insertBefore('spacer', TOOLBAR_ITEM, item)) {
          panel.toolbar.addItem(TOOLBAR_ITEM, item);
        }
        return new DisposableDelegate(() => {
          badges.dispose();
          item.dispose();
        });
      }
    });
    app.docRegistry.addWidgetExtension('Notebook', extension);
  }
};
