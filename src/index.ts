import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  INotebookCellExecutor,
  INotebookTracker,
  type NotebookPanel,
  runCell
} from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator } from '@jupyterlab/translation';

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

/**
 * The status view: a badge on each code cell and the queue in the notebook toolbar, read
 * from the shared document.
 */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:status',
  description:
    'Shows on each cell and in the notebook toolbar what the server runs, queues and waits for, read from the shared document.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [INotebookCellExecutor, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    executor: INotebookCellExecutor | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): void => {
    const client = new CollabExecClient(app.serviceManager.serverSettings);
    const serverInfo =
      executor instanceof ServerCellExecutor
        ? executor.serverInfo
        : client.info().catch(() => null);
    // The status view is not needed to start the application: it loads with the first
    // notebook.
    let showBadges = true;
    let ui: Promise<Private.IStatusUI> | null = null;
    const loadUI = (): Promise<Private.IStatusUI> => {
      ui ??= Promise.all([import('./status'), import('./toolbar')]).then(
        ([status, toolbar]) => ({
          status,
          toolbar,
          config: new status.StatusConfig({ showBadges })
        })
      );
      return ui;
    };
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const update = () => {
            showBadges = settings.get('showStatusBadges').composite !== false;
            void ui?.then(({ config }) => {
              config.showBadges = showBadges;
            });
          };
          update();
          settings.changed.connect(update);
        })
        .catch(reason => {
          console.error('jupyterlab-collab-exec: cannot load settings', reason);
        });
    }

    const addTo = async (panel: NotebookPanel): Promise<void> => {
      const { status, toolbar, config } = await loadUI();
      if (panel.isDisposed) {
        return;
      }
      const badges = new status.CellStatusTracker({
        notebook: panel.content,
        config,
        translator: translator ?? undefined
      });
      const item = new toolbar.QueueToolbarItem({
        notebook: panel.content,
        backend: client,
        serverInfo,
        translator: translator ?? undefined
      });
      // Before the spacer, so that it stays visible when the toolbar overflows.
      if (!panel.toolbar.insertBefore('spacer', TOOLBAR_ITEM, item)) {
        panel.toolbar.addItem(TOOLBAR_ITEM, item);
      }
      panel.disposed.connect(() => {
        badges.dispose();
        item.dispose();
      });
    };
    const onPanel = (panel: NotebookPanel) => {
      addTo(panel).catch(reason => {
        console.error('jupyterlab-collab-exec: cannot show the status', reason);
      });
    };
    tracker.forEach(onPanel);
    tracker.widgetAdded.connect((_sender, panel) => onPanel(panel));
  }
};

const TOOLBAR_ITEM = 'collabExecQueue';

/**
 * The collaborative input widget: every input a kernel waits for, in every view of the
 * notebook, answerable by anyone.
 */
const inputPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-collab-exec:input',
  description:
    'Shows the input() and getpass() prompts that kernels wait for in every view of a collaborative notebook, where anyone can answer them.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    translator: ITranslator | null
  ): void => {
    const client = new CollabExecClient(app.serviceManager.serverSettings);
    // Loaded with the first notebook, like the status view.
    let ui: Promise<typeof import('./input')> | null = null;
    const addTo = async (panel: NotebookPanel): Promise<void> => {
      ui ??= import('./input');
      const input = await ui;
      if (panel.isDisposed) {
        return;
      }
      const inputs = new input.CellInputTracker({
        notebook: panel.content,
        backend: client,
        translator: translator ?? undefined,
        username: () => app.serviceManager.user.identity?.username ?? null,
        isCurrent: () => app.shell.currentWidget === panel
      });
      panel.disposed.connect(() => inputs.dispose());
    };
    const onPanel = (panel: NotebookPanel) => {
      addTo(panel).catch(reason => {
        console.error('jupyterlab-collab-exec: cannot show the inputs', reason);
      });
    };
    tracker.forEach(onPanel);
    tracker.widgetAdded.connect((_sender, panel) => onPanel(panel));
  }
};

export default [executorPlugin, statusPlugin, inputPlugin];

namespace Private {
  /**
   * The status view, loaded with the first notebook.
   */
  export interface IStatusUI {
    status: typeof import('./status');
    toolbar: typeof import('./toolbar');
    config: import('./status').StatusConfig;
  }
}
