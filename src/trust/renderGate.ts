/**
 * The render gate of a notebook's rendermime registry: a trusted output renders only
 * once its cell's trust is confirmed, so that nothing a collaborator wrote into the doc
 * runs as trusted while the server is asked.
 *
 * Every renderer that the registry makes for a MIME type whose rendering depends on trust
 * waits for `allow` before it renders a trusted model. A model that is not allowed is not
 * rendered: its cell is made untrusted, and the output area renders it again, untrusted.
 * The registry is patched once; the views of one notebook share it.
 */
import type {
  IOutputModel,
  IRenderMime,
  IRenderMimeRegistry
} from '@jupyterlab/rendermime';

import { INERT_MIME_TYPES } from './cells';

/**
 * Whether a trusted output may render as trusted.
 */
export type RenderPermission = (output: IOutputModel) => Promise<boolean>;

export function gateRenderers(
  rendermime: IRenderMimeRegistry,
  allow: RenderPermission
): void {
  if (Private.gated.has(rendermime)) {
    return;
  }
  Private.gated.add(rendermime);
  const createRenderer = rendermime.createRenderer.bind(rendermime);
  rendermime.createRenderer = (mimeType: string): IRenderMime.IRenderer => {
    const renderer = createRenderer(mimeType);
    if (!INERT_MIME_TYPES.has(mimeType)) {
      gate(renderer, allow);
    }
    return renderer;
  };
}

function gate(renderer: IRenderMime.IRenderer, allow: RenderPermission): void {
  const render = renderer.renderModel.bind(renderer);
  let latest = 0;
  renderer.renderModel = async (model: IRenderMime.IMimeModel) => {
    const call = ++latest;
    if (model.trusted && !(await allow(model as IOutputModel))) {
      return;
    }
    if (call !== latest || renderer.isDisposed) {
      // A later model replaced this one while it was checked.
      return;
    }
    return render(model);
  };
}

namespace Private {
  export const gated = new WeakSet<IRenderMimeRegistry>();
}
