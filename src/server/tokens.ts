/**
 * The tokens through which the plugins share one REST client and one copy of the user's
 * settings.
 */
import { Token } from '@lumino/coreutils';

import type { ICollabExecSettings as ISettingsValues } from '../common/settings';
import type {
  CellVerdict,
  IExecutionBackend,
  IHistoryBackend,
  IInputBackend,
  IQueueBackend,
  ITrustBackend,
  IWidgetValueBackend
} from './backends';

/**
 * The REST client of the server extension. Its `info()` is asked once per session.
 */
export interface ICollabExecClient
  extends
    IExecutionBackend,
    IHistoryBackend,
    IQueueBackend,
    IInputBackend,
    ITrustBackend,
    IWidgetValueBackend {}

export const ICollabExecClient = new Token<ICollabExecClient>(
  'jupyterlab-collab-exec:ICollabExecClient',
  'The REST client of the server extension, shared by every plugin of jupyterlab-collab-exec.'
);

/**
 * The user's settings of jupyterlab-collab-exec, as they are now.
 */
export type ICollabExecSettings = ISettingsValues;

export const ICollabExecSettings = new Token<ICollabExecSettings>(
  'jupyterlab-collab-exec:ICollabExecSettings',
  'The settings of jupyterlab-collab-exec, loaded once and followed live.'
);

/**
 * What the server confirms of what a view holds: the one way to trust a cell's outputs, a
 * widget model or the saved widget state read from a shared document.
 */
export interface ICollabExecTrust {
  /**
   * Whether the server confirms anything at all; false without the server extension.
   */
  enabled(): Promise<boolean>;
  cellVerdict(
    documentId: string,
    cellId: string,
    digests: ReadonlyArray<string>
  ): Promise<CellVerdict>;
  modelConfirmed(
    documentId: string,
    modelId: string,
    digest: string
  ): Promise<boolean>;
  widgetStateConfirmed(documentId: string, digest: string): Promise<boolean>;
}

export const ICollabExecTrust = new Token<ICollabExecTrust>(
  'jupyterlab-collab-exec:ICollabExecTrust',
  'Asks the server whether what a view holds is exactly what the server wrote.'
);
