/**
 * The plugin of trust from the server: cell outputs, in every view, are trusted only as
 * the server confirms them (cellTrust.ts), checked before they render (renderGate.ts); and
 * the verifier that the widgets plugin asks about the models and the saved state it reads
 * from the doc. Without the server extension, it trusts nothing and changes nothing.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate } from '@lumino/disposable';

// Each panel's renderers are gated when the panel is made, before any output renders:
// this cannot wait for a module loaded later.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { NotebookOutputTrust } from '../trust/cells';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { gateRenderers } from '../trust/renderGate';
import { ICollabExecClient, ICollabExecTrust } from '../server/tokens';
import { TrustVerifier } from '../trust/verifier';

export const trustPlugin: JupyterFrontEndPlugin<ICollabExecTrust> = {
  id: 'jupyterlab-collab-exec:trust',
  description:
    'Trusts the outputs of notebook cells, in every view, only as the server confirms that it wrote them, never from the shared document.',
  autoStart: true,
  requires: [ICollabExecClient],
  provides: ICollabExecTrust,
  activate: (
    app: JupyterFrontEnd,
    client: ICollabExecClient
  ): ICollabExecTrust => {
    const verifier = new TrustVerifier(client);
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel) => {
        const trust = NotebookOutputTrust.forModel(
          panel.context.model,
          verifier
        );
        gateRenderers(panel.content.rendermime, output =>
          trust.allowTrustedRender(output)
        );
        // The trust lives as long as the notebook's model, which the views share.
        return new DisposableDelegate(() => undefined);
      }
    });
    return verifier;
  }
};
