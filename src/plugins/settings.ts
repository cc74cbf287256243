/**
 * The plugin that loads the user's settings (`schema/plugin.json`) once and shares them.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { CollabExecSettings } from '../common/settings';
import { ICollabExecSettings } from '../server/tokens';

export const settingsPlugin: JupyterFrontEndPlugin<ICollabExecSettings> = {
  // The id of the settings schema.
  id: 'jupyterlab-collab-exec:plugin',
  description:
    'Loads the settings of jupyterlab-collab-exec once and follows their changes.',
  autoStart: true,
  provides: ICollabExecSettings,
  optional: [ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null
  ): ICollabExecSettings => {
    // Defaults until the registry answers.
    const settings = new CollabExecSettings();
    registry
      ?.load(settingsPlugin.id)
      .then(loaded => {
        const read = () => {
          settings.update({
            serverExecution: loaded.get('serverExecution').composite !== false,
            showStatusBadges: loaded.get('showStatusBadges').composite !== false
          });
        };
        read();
        loaded.changed.connect(read);
      })
      .catch(reason => {
        console.error('jupyterlab-collab-exec: cannot load settings', reason);
      });
    return settings;
  }
};
