/**
 * Every private field and prototype method of the widget libraries that this extension
 * reads or wraps, in one place. `missingInternals` names those that a release no longer
 * has: a jest spec runs it on the installed packages, and the widget plugin warns in the
 * console when one is gone, so that an upgrade fails loudly instead of quietly.
 */
import type {
  WidgetManager,
  WidgetRenderer
} from '@jupyter-widgets/jupyterlab-manager';
import type { INotebookModel } from '@jupyterlab/notebook';
import type { PromiseDelegate } from '@lumino/coreutils';

/**
 * The model fields that say which attributes this browser changed and the kernel has not
 * echoed yet (`WidgetModel` of `@jupyter-widgets/base`).
 */
interface IModelInternals {
  _expectedEchoMsgIds?: Map<string, string>;
  _msg_buffer?: Record<string, unknown> | null;
}

/**
 * The renderer's promise of its manager (`WidgetRenderer` of the jupyterlab-manager).
 */
interface IRendererInternals {
  _manager?: PromiseDelegate<WidgetManager> | null;
}

/**
 * The manager's restore from the notebook metadata, wrapped by the hooks.
 */
export interface IManagerInternals {
  _loadFromNotebook(notebook: INotebookModel): Promise<void>;
}

/**
 * The prototype methods of the jupyterlab-manager's `WidgetManager` that are wrapped or
 * called; `_create_comm` and `_loadFromNotebook` are not public API.
 */
export const MANAGER_METHODS = [
  'restoreWidgets',
  '_loadFromNotebook',
  'register',
  'register_model',
  'get_model',
  '_create_comm'
] as const;

/**
 * The prototype method of `WidgetModel` that takes the kernel's comm messages, wrapped to
 * merge bursts of updates (kernelUpdates.ts); it chains them on the model's
 * `state_change`.
 */
export const MODEL_COMM_HANDLER = '_handle_comm_msg' as const;

/**
 * The prototype method of `WidgetRenderer` that is wrapped.
 */
export const RENDERER_METHODS = ['renderModel'] as const;

/**
 * The attributes that this browser changed and the kernel has not echoed yet: they are
 * ahead of anything the doc says.
 */
export function unechoedKeys(model: object): Set<string> {
  const internals = model as IModelInternals;
  const keys = new Set<string>(internals._expectedEchoMsgIds?.keys() ?? []);
  for (const key of Object.keys(internals._msg_buffer ?? {})) {
    keys.add(key);
  }
  return keys;
}

/**
 * The manager of a renderer, once the widget extension gave it one.
 */
export function rendererManager(
  renderer: WidgetRenderer
): Promise<WidgetManager> | null {
  return (renderer as unknown as IRendererInternals)._manager?.promise ?? null;
}

/**
 * The names of the internals above that these classes, or these instances when given,
 * lack.
 */
export function missingInternals(parts: {
  managerClass?: { prototype: object };
  rendererClass?: { prototype: object };
  modelClass?: { prototype: object };
  renderer?: object;
  model?: object;
}): string[] {
  const missing: string[] = [];
  const prototypes: Array<[string, object | undefined, readonly string[]]> = [
    ['WidgetManager', parts.managerClass?.prototype, MANAGER_METHODS],
    ['WidgetRenderer', parts.rendererClass?.prototype, RENDERER_METHODS],
    ['WidgetModel', parts.modelClass?.prototype, [MODEL_COMM_HANDLER]]
  ];
  for (const [className, prototype, methods] of prototypes) {
    if (!prototype) {
      continue;
    }
    for (const name of methods) {
      if (typeof Reflect.get(prototype, name) !== 'function') {
        missing.push(`${className}.prototype.${name}`);
      }
    }
  }
  if (parts.renderer && !('_manager' in parts.renderer)) {
    missing.push('WidgetRenderer._manager');
  }
  if (parts.model) {
    missing.push(...missingModelInternals(parts.model));
  }
  return missing;
}

function missingModelInternals(model: IModelInternals): string[] {
  const missing: string[] = [];
  const modelClass = model.constructor as unknown as Record<string, unknown>;
  if (!(model._expectedEchoMsgIds instanceof Map)) {
    missing.push('WidgetModel._expectedEchoMsgIds');
  }
  if (!('_msg_buffer' in model)) {
    missing.push('WidgetModel._msg_buffer');
  }
  if (typeof modelClass._deserialize_state !== 'function') {
    missing.push('WidgetModel._deserialize_state');
  }
  if (!(Reflect.get(model, 'state_change') instanceof Promise)) {
    missing.push('WidgetModel.state_change');
  }
  return missing;
}
