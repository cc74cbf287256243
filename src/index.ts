/**
 * The plugins of jupyterlab-collab-exec, one file each.
 */
import { clientPlugin } from './clientPlugin';
import { executorPlugin } from './executorPlugin';
import { inputPlugin } from './inputPlugin';
import { settingsPlugin } from './settingsPlugin';
import { statusPlugin } from './statusPlugin';

export default [
  clientPlugin,
  settingsPlugin,
  executorPlugin,
  statusPlugin,
  inputPlugin
];
