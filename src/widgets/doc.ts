/**
 * A read-only view of the `collab_widgets` map of a notebook's Y.Doc: which widget models
 * the server mirrors, whether they are live, and their state.
 *
 * Any client can write into a Y.Doc, so every entry is checked before use.
 */
import type { INotebookModel } from '@jupyterlab/notebook';
import * as Y from 'yjs';

import { notebookDocumentId } from '../doc/notebook';
import {
  type IReferencedWidgetBuffer,
  type IWidgetBuffer,
  type IWidgetModelEntry,
  referencedDigest,
  WIDGET_MODELS,
  WIDGETS_KERNEL_ID,
  WIDGETS_ROOT
} from '../doc/schema';

export class WidgetDoc {
  constructor(ydoc: Y.Doc) {
    this._root = ydoc.getMap<unknown>(WIDGETS_ROOT);
  }

  /**
   * The shared map, to observe.
   */
  get root(): Y.Map<unknown> {
    return this._root;
  }

  /**
   * The kernel whose models the map holds.
   */
  get kernelId(): string | null {
    const kernelId = this._root.get(WIDGETS_KERNEL_ID);
    return typeof kernelId === 'string' && kernelId ? kernelId : null;
  }

  /**
   * Every well-formed model entry, by id.
   */
  models(): Map<string, IWidgetModelEntry> {
    const found = new Map<string, IWidgetModelEntry>();
    const models = this._root.get(WIDGET_MODELS);
    if (models instanceof Y.Map) {
      for (const [modelId, entry] of models.entries()) {
        const parsed =
          entry instanceof Y.Map ? parseWidgetEntry(entry.toJSON()) : null;
        if (parsed) {
          found.set(modelId, parsed);
        }
      }
    }
    return found;
  }

  /**
   * One model's entry, or null when it is absent or malformed.
   */
  model(modelId: string): IWidgetModelEntry | null {
    const models = this._root.get(WIDGET_MODELS);
    const entry = models instanceof Y.Map ? models.get(modelId) : undefined;
    return entry instanceof Y.Map ? parseWidgetEntry(entry.toJSON()) : null;
  }

  /**
   * Whether the kernel holds the model now: a browser that has not built it yet will.
   */
  isLive(modelId: string): boolean {
    const entry = this.model(modelId);
    return entry !== null && entry.live && !entry.closed;
  }

  /**
   * Whether the kernel closed the model (a progress bar with `leave=False`).
   */
  isClosed(modelId: string): boolean {
    return this.model(modelId)?.closed === true;
  }

  /**
   * The ids of the models that a change of the map touched.
   */
  static changedModels(
    events: Array<Y.YEvent<Y.AbstractType<unknown>>>
  ): Set<string> {
    const changed = new Set<string>();
    for (const event of events) {
      const path = event.path;
      if (path.length >= 2 && path[0] === WIDGET_MODELS) {
        changed.add(String(path[1]));
      } else if (path.length === 1 && path[0] === WIDGET_MODELS) {
        for (const key of event.changes.keys.keys()) {
          changed.add(key);
        }
      }
    }
    return changed;
  }

  private _root: Y.Map<unknown>;
}

/**
 * The room id of a widget manager's notebook, or null before it is collaborative.
 */
export function managerDocumentId(manager: {
  context?: { model?: unknown } | null;
}): string | null {
  const model = manager.context?.model as INotebookModel | undefined;
  return model ? notebookDocumentId(model) : null;
}

export function parseWidgetEntry(value: unknown): IWidgetModelEntry | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const entry = value as Record<string, unknown>;
  const state = entry.state;
  if (
    typeof entry.model_name !== 'string' ||
    typeof entry.model_module !== 'string' ||
    typeof entry.model_module_version !== 'string' ||
    typeof state !== 'object' ||
    state === null ||
    Array.isArray(state) ||
    typeof entry.live !== 'boolean'
  ) {
    return null;
  }
  const buffers = Array.isArray(entry.buffers)
    ? entry.buffers.filter(isBuffer)
    : undefined;
  return {
    model_name: entry.model_name,
    model_module: entry.model_module,
    model_module_version: entry.model_module_version,
    state: state as Record<string, unknown>,
    buffers,
    live: entry.live,
    closed: entry.closed === true,
    ...(Number.isSafeInteger(entry.kernel_time)
      ? { kernel_time: entry.kernel_time as number }
      : {})
  };
}

function isBuffer(value: unknown): value is IWidgetBuffer {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const buffer = value as Record<string, unknown>;
  if (
    !Array.isArray(buffer.path) ||
    !buffer.path.every(
      part => typeof part === 'string' || typeof part === 'number'
    )
  ) {
    return false;
  }
  if (buffer.encoding === 'base64') {
    return typeof buffer.data === 'string';
  }
  return (
    buffer.encoding === 'ref' &&
    typeof buffer.ref === 'string' &&
    Number.isInteger(buffer.size) &&
    referencedDigest(buffer as unknown as IReferencedWidgetBuffer) !== null
  );
}
