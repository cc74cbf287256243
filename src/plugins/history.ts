/**
 * The plugin of the run history: the history of a cell, opened from its status badge or
 * the command palette, and the Activity side panel of the current notebook. Both load
 * once the server says that it keeps a run history.
 */
import {
  ILabShell,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../common/commands';
import { ICollabExecClient } from '../server/tokens';

export const historyPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:history',
  description:
    "Shows the server's run history: every run of a cell, with its outputs, restorable for everyone, and the runs of a notebook in the Activity panel.",
  autoStart: true,
  requires: [ICollabExecClient, INotebookTracker, IRenderMimeRegistry],
  optional: [ITranslator, ICommandPalette, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    client: ICollabExecClient,
    notebooks: INotebookTracker,
    rendermime: IRenderMimeRegistry,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    labShell: ILabShell | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab-collab-exec');
    const shell = client.info().then(async info => {
      if (!info?.features.includes('history')) {
        return null;
      }
      const { ACTIVITY_ID, HistoryShell } = await import('../history/shell');
      const history = new HistoryShell({
        app,
        backend: client,
        notebooks,
        rendermime,
        translator: translator ?? undefined,
        splitMainArea: labShell !== null
      });
      app.shell.add(history.activity, 'right', { rank: 800 });
      return { history, activityId: ACTIVITY_ID };
    });
    let available = false;
    void shell.then(loaded => {
      available = loaded !== null;
      app.commands.notifyCommandChanged();
    });

    app.commands.addCommand(CommandIDs.openCellHistory, {
      label: trans.__('Show Run History of Cell'),
      caption: trans.__(
        'Every run of the cell, with its outputs, restorable for everyone'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            path: {
              type: 'string',
              description: trans.__(
                'The path of the notebook; the current notebook by default'
              )
            },
            cellId: {
              type: 'string',
              description: trans.__(
                'The id of the cell; the active cell by default'
              )
            }
          }
        }
      },
      isEnabled: () => available && notebooks.currentWidget !== null,
      execute: async args => {
        const loaded = await shell;
        loaded?.history.openCellHistory(
          typeof args.path === 'string' ? args.path : undefined,
          typeof args.cellId === 'string' ? args.cellId : undefined
        );
      }
    });
    app.commands.addCommand(CommandIDs.showActivity, {
      label: trans.__('Show Notebook Activity'),
      caption: trans.__('The runs of the notebook, newest first, by everyone'),
      describedBy: { args: { type: 'object', properties: {} } },
      isEnabled: () => available,
      execute: async () => {
        const loaded = await shell;
        if (loaded) {
          app.shell.activateById(loaded.activityId);
        }
      }
    });
    for (const command of [
      CommandIDs.openCellHistory,
      CommandIDs.showActivity
    ]) {
      palette?.addItem({ command, category: trans.__('Notebook Operations') });
    }
  }
};
