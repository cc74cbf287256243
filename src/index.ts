/**
 * The plugins of jupyterlab-collab-exec, one file each.
 */
import { clientPlugin } from './plugins/client';
import { executorPlugin } from './plugins/executor';
import { historyPlugin } from './plugins/history';
import { inputPlugin } from './plugins/input';
import { settingsPlugin } from './plugins/settings';
import { statusPlugin } from './plugins/status';
import { trustPlugin } from './plugins/trust';
import { widgetsPlugin } from './plugins/widgets';

export default [
  clientPlugin,
  settingsPlugin,
  executorPlugin,
  statusPlugin,
  inputPlugin,
  trustPlugin,
  widgetsPlugin,
  historyPlugin
];
