/**
 * The plugin that builds the one REST client of the server extension.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

// The cell executor, provided while the application starts, needs the client at once.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { CollabExecClient } from '../server/api';
import { ICollabExecClient } from '../server/tokens';

export const clientPlugin: JupyterFrontEndPlugin<ICollabExecClient> = {
  id: 'jupyterlab-collab-exec:client',
  description:
    'Provides the REST client of the server extension, shared by the other plugins of jupyterlab-collab-exec.',
  autoStart: true,
  provides: ICollabExecClient,
  activate: (app: JupyterFrontEnd): ICollabExecClient =>
    new CollabExecClient(app.serviceManager.serverSettings)
};
