/**
 * The tokens through which the plugins share one REST client and one copy of the user's
 * settings.
 */
import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';

import type { IExecutionBackend, IInputBackend, IQueueBackend } from './api';

/**
 * The REST client of the server extension. Its `info()` is asked once per session.
 */
export interface ICollabExecClient
  extends IExecutionBackend, IQueueBackend, IInputBackend {}

export const ICollabExecClient = new Token<ICollabExecClient>(
  'jupyterlab-collab-exec:ICollabExecClient',
  'The REST client of the server extension, shared by every plugin of jupyterlab-collab-exec.'
);

/**
 * The user's settings of jupyterlab-collab-exec, as they are now.
 */
export interface ICollabExecSettings {
  /**
   * Whether code cells of collaborative notebooks run on the server.
   */
  readonly serverExecution: boolean;
  /**
   * Whether code cells show their status badge.
   */
  readonly showStatusBadges: boolean;
  /**
   * Emitted when a setting changes.
   */
  readonly changed: ISignal<ICollabExecSettings, void>;
}

export const ICollabExecSettings = new Token<ICollabExecSettings>(
  'jupyterlab-collab-exec:ICollabExecSettings',
  'The settings of jupyterlab-collab-exec, loaded once and followed live.'
);
