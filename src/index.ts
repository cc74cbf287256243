/**
 * The plugins of jupyterlab-collab-exec, one file each.
 */
import { clientPlugin } from './clientPlugin';
import { executorPlugin } from './executorPlugin';
import { inputPlugin } from './inputPlugin';
import { settingsPlugin } from './settingsPlugin';
import { statusPlugin } from './statusPlugin';
import { trustPlugin } from './trustPlugin';
import { widgetsPlugin } from './widgetsPlugin';

export default [
  clientPlugin,
  settingsPlugin,
  executorPlugin,
  statusPlugin,
  inputPlugin,
  trustPlugin,
  widgetsPlugin
];
