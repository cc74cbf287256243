/**
 * ipywidgets under server execution: hooks on the shared classes of
 * `@jupyter-widgets/jupyterlab-manager`, which does not expose these points. Each wrapper
 * calls the original. They use the server's mirror in `collab_widgets`:
 *
 * - A view whose model the doc says is live, but that this browser has not built yet
 *   (its `comm_open` comes on the kernel websocket, the view through the doc), waits for
 *   it instead of failing after two seconds.
 * - A view of a model that the kernel closed (tqdm with `leave=False`) shows nothing,
 *   rather than "model not found".
 * - When a manager restores its widgets (a page load, a kernel restart), the models in the
 *   doc are built at once: the live ones attached to their comms, so that a progress bar
 *   keeps moving while the kernel is busy (the manager's own restore asks the kernel on
 *   the shell channel and waits behind the running cell); the others frozen, without a
 *   comm, as the widgets of a kernel that went away.
 * - A model is built from the doc, and the saved widget state restored, only as the
 *   server confirms it (confirmation.ts).
 */
import type {
  WidgetManager,
  WidgetRenderer
} from '@jupyter-widgets/jupyterlab-manager';
import type { IRenderMime } from '@jupyterlab/rendermime';
import type { IWidgetRegistryData } from '@jupyter-widgets/base';
import type { INotebookModel } from '@jupyterlab/notebook';
import { type ITranslator, nullTranslator } from '@jupyterlab/translation';
import { PromiseDelegate } from '@lumino/coreutils';
import type * as Y from 'yjs';

import { notebookYDoc } from '../doc/notebook';
import type { IWidgetModelEntry } from '../doc/schema';
import type { ICollabExecTrust } from '../server/tokens';
import { WidgetConfirmation } from './confirmation';
import { managerDocumentId, WidgetDoc } from './doc';
import {
  type IManagerInternals,
  missingInternals,
  rendererManager
} from './internals';
import { followedDoc } from './kernelUpdates';
import type { WidgetValues } from './values';

export type ManagerModule =
  typeof import('@jupyter-widgets/jupyterlab-manager');

/**
 * How long a view waits for a model that the doc says is live.
 */
export const LIVE_MODEL_WAIT_MS = 30_000;

/**
 * The hooks, installed once per page on the shared classes of the widget manager.
 */
export class WidgetManagerHooks {
  constructor(
    module: ManagerModule,
    trust: ICollabExecTrust,
    values: WidgetValues,
    translator: ITranslator = nullTranslator
  ) {
    this._module = module;
    this._values = values;
    this._confirmation = new WidgetConfirmation(trust, translator);
    const missing = missingInternals({
      managerClass: module.WidgetManager,
      rendererClass: module.WidgetRenderer
    });
    if (missing.length) {
      console.warn(
        'jupyterlab-collab-exec: this release of the widget manager lacks',
        missing
      );
    }
    this._wrapManager(module.WidgetManager);
    this._wrapRenderer(module.WidgetRenderer);
  }

  get module(): ManagerModule {
    return this._module;
  }

  /**
   * The widget extension's settings, for a manager that this extension makes: kept in
   * line with "save widget state" by the plugin, and read when a notebook is saved.
   */
  readonly managerSettings = { saveState: false };

  /**
   * The large binary values that the doc names by digest.
   */
  get values(): WidgetValues {
    return this._values;
  }

  /**
   * The manager of a notebook context, once the widget extension made one.
   */
  managerOf(context: unknown): WidgetManager | null {
    return this._managers.get(context as object) ?? null;
  }

  /**
   * The widget modules that any manager of this page was given: those of widget
   * libraries besides ipywidgets, for a manager that the widget extension did not make.
   */
  registeredModules(): IWidgetRegistryData[] {
    return [...this._modules.values()];
  }

  /**
   * The `collab_widgets` view of a manager's notebook.
   */
  docOf(manager: WidgetManager): WidgetDoc | null {
    const model = manager.context?.model;
    const ydoc = model ? notebookYDoc(model) : null;
    if (!ydoc) {
      return null;
    }
    let doc = this._docs.get(ydoc);
    if (!doc) {
      doc = new WidgetDoc(ydoc);
      this._docs.set(ydoc, doc);
    }
    return doc;
  }

  /**
   * Wait until a manager has registered a model, or the time is up.
   */
  async waitForModel(
    manager: WidgetManager,
    modelId: string,
    timeout: number
  ): Promise<void> {
    if (manager.has_model(modelId)) {
      return;
    }
    let waiters = this._waiters.get(manager);
    if (!waiters) {
      waiters = new Map();
      this._waiters.set(manager, waiters);
    }
    let waiter = waiters.get(modelId);
    if (!waiter) {
      waiter = new PromiseDelegate<void>();
      waiters.set(modelId, waiter);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>(resolve => {
      timer = setTimeout(resolve, timeout);
    });
    await Promise.race([waiter.promise, timedOut]);
    clearTimeout(timer);
  }

  /**
   * Build the models of the doc that the manager lacks: live ones with their comm (the
   * kernel's updates reach them from now on), frozen ones without. Every model is
   * registered within the same turn of the event loop, so references between them
   * resolve (and views of live ones wait for them in any case).
   */
  async buildFromDoc(manager: WidgetManager): Promise<void> {
    const doc = this.docOf(manager);
    const kernel = manager.kernel;
    if (!doc || !(await this._confirmation.enabled())) {
      return;
    }
    const sameKernel = kernel !== null && doc.kernelId === kernel.id;
    const candidates = new Map<string, IWidgetModelEntry>();
    for (const [modelId, entry] of doc.models()) {
      // Without a kernel, a live model is left to the kernel that the view joins.
      if (
        entry.closed ||
        manager.has_model(modelId) ||
        (entry.live && kernel === null)
      ) {
        continue;
      }
      const live = entry.live && sameKernel && kernel !== null;
      if (live && kernel.hasComm(modelId)) {
        continue;
      }
      candidates.set(modelId, entry);
    }
    const confirmed = await Promise.all(
      [...candidates].map(([modelId, entry]) =>
        this._confirmation.entryConfirmed(manager, modelId, entry)
      )
    );
    const documentId = managerDocumentId(manager);
    const states = await Promise.all(
      [...candidates].map(([, entry], index) =>
        confirmed[index]
          ? this._values.wireState(documentId, entry)
          : Promise.resolve(null)
      )
    );
    // From here on, in one turn: every model is registered before any awaits.
    const building: Array<Promise<unknown>> = [];
    [...candidates].forEach(([modelId, entry], index) => {
      if (!confirmed[index]) {
        this._confirmation.reject(manager, [modelId]);
        return;
      }
      const live = entry.live && sameKernel && kernel !== null;
      const state = states[index];
      // The manager may have built it meanwhile, or its kernel opened its comm. A value
      // that could not be fetched leaves it to the kernel, or to the saved state.
      if (
        !state ||
        manager.has_model(modelId) ||
        (live && kernel.hasComm(modelId))
      ) {
        return;
      }
      const comm = live
        ? manager._create_comm('jupyter.widget', modelId)
        : Promise.resolve(undefined);
      const options = {
        model_name: entry.model_name,
        model_module: entry.model_module,
        model_module_version: entry.model_module_version,
        model_id: modelId
      };
      // `new_model` registers the model before it awaits anything. The comm is created
      // locally and sends nothing to the kernel.
      building.push(
        comm
          .then(created =>
            manager.new_model({ ...options, comm: created }, state)
          )
          .then(model => {
            // The kernel's updates older than this state are stale for it.
            if (entry.kernel_time !== undefined) {
              followedDoc(model, entry.kernel_time);
            }
          })
      );
    });
    await Promise.all(building);
  }

  /**
   * Whether the server wrote this entry of `collab_widgets` into the manager's notebook.
   */
  entryConfirmed(
    manager: WidgetManager,
    modelId: string,
    entry: IWidgetModelEntry
  ): Promise<boolean> {
    return this._confirmation.entryConfirmed(manager, modelId, entry);
  }

  private _registered(manager: WidgetManager, modelId: string): void {
    const waiter = this._waiters.get(manager)?.get(modelId);
    if (waiter) {
      this._waiters.get(manager)?.delete(modelId);
      waiter.resolve();
    }
  }

  private _wrapManager(managerClass: ManagerModule['WidgetManager']): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const hooks = this;
    const proto = managerClass.prototype;
    const restoreWidgets = proto.restoreWidgets;
    proto.restoreWidgets = function (
      this: WidgetManager,
      ...args: Parameters<typeof restoreWidgets>
    ) {
      // The constructor calls it once its context is set: the manager is known from here.
      if (this.context && !hooks._managers.has(this.context)) {
        hooks._managers.set(this.context, this);
      }
      const building = hooks.buildFromDoc(this).catch(reason => {
        console.warn('jupyterlab-collab-exec: widgets from the doc', reason);
      });
      hooks._building.set(this, building);
      return restoreWidgets.apply(this, args);
    };
    const internals = proto as unknown as IManagerInternals;
    const loadFromNotebook = internals._loadFromNotebook;
    internals._loadFromNotebook = async function (
      this: WidgetManager,
      notebook: INotebookModel
    ) {
      const saved = notebook.getMetadata?.('widgets');
      if (
        saved &&
        !(await hooks._confirmation.savedStateConfirmed(this, saved))
      ) {
        return;
      }
      return loadFromNotebook.call(this, notebook);
    };
    const register = proto.register;
    proto.register = function (
      this: WidgetManager,
      ...args: Parameters<typeof register>
    ) {
      const [data] = args;
      hooks._modules.set(`${data.name}@${data.version}`, data);
      register.apply(this, args);
    };
    const registerModel = proto.register_model;
    proto.register_model = function (
      this: WidgetManager,
      ...args: Parameters<typeof registerModel>
    ) {
      registerModel.apply(this, args);
      hooks._registered(this, args[0]);
    };
    const getModel = proto.get_model;
    proto.get_model = async function (
      this: WidgetManager,
      ...args: Parameters<typeof getModel>
    ) {
      const [modelId] = args;
      if (!this.has_model(modelId) && hooks.docOf(this)?.isLive(modelId)) {
        await hooks.waitForModel(this, modelId, LIVE_MODEL_WAIT_MS);
      }
      return getModel.apply(this, args);
    };
  }

  private _wrapRenderer(rendererClass: ManagerModule['WidgetRenderer']): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const hooks = this;
    const proto = rendererClass.prototype;
    const renderModel = proto.renderModel;
    proto.renderModel = async function (
      this: WidgetRenderer,
      model: IRenderMime.IMimeModel
    ) {
      const source = model.data[this.mimeType] as { model_id?: unknown };
      const manager = rendererManager(this);
      if (manager && typeof source?.model_id === 'string' && source.model_id) {
        const resolved = await manager;
        const closed = hooks.docOf(resolved)?.isClosed(source.model_id);
        if (closed && !resolved.has_model(source.model_id)) {
          this.hide();
          return;
        }
        await hooks._building.get(resolved);
        if (
          !resolved.has_model(source.model_id) &&
          !hooks.docOf(resolved)?.isLive(source.model_id)
        ) {
          // A frozen model comes with the restore, which also tells the models it left out.
          await whenRestored(resolved, LIVE_MODEL_WAIT_MS);
        }
        if (hooks._confirmation.isRejected(resolved, source.model_id)) {
          hooks._confirmation.showText(this, model);
          return;
        }
      }
      return renderModel.call(this, model);
    };
  }

  private _module: ManagerModule;
  private _values: WidgetValues;
  private _confirmation: WidgetConfirmation;
  private _building = new WeakMap<WidgetManager, Promise<void>>();
  private _managers = new WeakMap<object, WidgetManager>();
  private _docs = new WeakMap<Y.Doc, WidgetDoc>();
  private _modules = new Map<string, IWidgetRegistryData>();
  private _waiters = new WeakMap<
    WidgetManager,
    Map<string, PromiseDelegate<void>>
  >();
}

/**
 * Resolve once a manager has restored its widgets, or the time is up.
 */
function whenRestored(manager: WidgetManager, timeout: number): Promise<void> {
  if (manager.restoredStatus) {
    return Promise.resolve();
  }
  return new Promise<void>(resolve => {
    const done = () => {
      clearTimeout(timer);
      manager.restored.disconnect(done);
      resolve();
    };
    const timer = setTimeout(done, timeout);
    manager.restored.connect(done);
  });
}
