/**
 * A widget manager for a notebook whose view opened without a kernel. The widget
 * extension makes a manager only for a kernel that exists when the view opens; without
 * one, every widget says "Loading widget..." for good and a kernel that arrives later gets
 * no manager (its `comm_open`s would go unanswered).
 *
 * This manager renders the widgets frozen, without comms, from the doc's mirror and then
 * from the saved `metadata.widgets`, as JupyterLab renders the saved state of a notebook
 * whose kernel is new. It takes the widget extension's "save widget state" setting, and
 * the widget modules of ipywidgets, of the other managers of the page, and of the page's
 * shared packages (sharedModules.ts). Models that the doc says are live are left to the
 * kernel that the view is about to join. When a kernel arrives, the same manager serves
 * it, as the widget extension's own manager follows its notebook's kernel changes.
 */
import type {
  WidgetManager,
  WidgetRenderer
} from '@jupyter-widgets/jupyterlab-manager';
import type { ExportMap, IWidgetRegistryData } from '@jupyter-widgets/base';
import type { Cell, CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMime } from '@jupyterlab/rendermime';
import { DisposableDelegate, type IDisposable } from '@lumino/disposable';

import type { ManagerModule, WidgetManagerHooks } from './hooks';
import { sharedWidgetModule } from './sharedModules';

/**
 * The MIME type of a widget's view in an output.
 */
export const WIDGET_VIEW_MIMETYPE = 'application/vnd.jupyter.widget-view+json';

/**
 * The widget renderers in a notebook's outputs, as the widget extension finds them.
 */
export function* notebookRenderers(
  panel: NotebookPanel,
  rendererClass: ManagerModule['WidgetRenderer']
): IterableIterator<WidgetRenderer> {
  for (const cell of panel.content.widgets as ReadonlyArray<Cell>) {
    if (cell.model.type !== 'code') {
      continue;
    }
    for (const area of (cell as CodeCell).outputArea.widgets) {
      for (const output of Array.from(area.children())) {
        if (output instanceof rendererClass) {
          yield output;
        }
      }
    }
  }
}

/**
 * The widget modules that ipywidgets itself registers, loaded from the widget
 * extension's shared packages: `@jupyter-widgets/controls` only when a model needs it.
 */
export async function standardWidgetModules(
  module: ManagerModule
): Promise<IWidgetRegistryData[]> {
  const base = await import('@jupyter-widgets/base');
  const { JUPYTER_CONTROLS_VERSION } =
    await import('@jupyter-widgets/controls/lib/version');
  return [
    {
      name: '@jupyter-widgets/base',
      version: base.JUPYTER_WIDGETS_VERSION,
      exports: {
        WidgetModel: base.WidgetModel,
        WidgetView: base.WidgetView,
        DOMWidgetView: base.DOMWidgetView,
        DOMWidgetModel: base.DOMWidgetModel,
        LayoutModel: base.LayoutModel,
        LayoutView: base.LayoutView,
        StyleModel: base.StyleModel,
        StyleView: base.StyleView,
        ErrorWidgetView: base.ErrorWidgetView
      }
    },
    {
      name: '@jupyter-widgets/controls',
      version: JUPYTER_CONTROLS_VERSION,
      exports: () =>
        import('@jupyter-widgets/controls') as unknown as Promise<ExportMap>
    },
    {
      name: '@jupyter-widgets/output',
      version: module.output.OUTPUT_WIDGET_VERSION,
      exports: {
        OutputModel: module.output.OutputModel,
        OutputView: module.output.OutputView
      }
    }
  ];
}

/**
 * Give a notebook view that has no kernel a manager of its own; disposing the result
 * disposes the manager.
 */
export function attachKernellessManager(
  panel: NotebookPanel,
  hooks: WidgetManagerHooks,
  modules: ReadonlyArray<IWidgetRegistryData>
): IDisposable {
  const module = hooks.module;
  const ManagerClass = kernellessManagerClass(hooks);
  const rendermime = panel.content.rendermime;
  // Kept in line with the widget extension's "save widget state", read on each save.
  const manager = new ManagerClass(
    panel.context,
    rendermime,
    hooks.managerSettings
  );
  // Registered before the restore that the constructor started reads any model.
  const names = new Set<string>();
  for (const data of [...modules, ...hooks.registeredModules()]) {
    const key = `${data.name}@${data.version}`;
    if (!names.has(key)) {
      names.add(key);
      manager.register(data);
    }
  }
  for (const renderer of notebookRenderers(panel, module.WidgetRenderer)) {
    renderer.manager = manager;
  }
  rendermime.removeMimeType(WIDGET_VIEW_MIMETYPE);
  rendermime.addFactory(
    {
      safe: false,
      mimeTypes: [WIDGET_VIEW_MIMETYPE],
      // The widget extension is built against its own copy of Lumino's types.
      createRenderer: options =>
        new module.WidgetRenderer(
          options,
          manager
        ) as unknown as IRenderMime.IRenderer
    },
    -10
  );
  return new DisposableDelegate(() => {
    rendermime.removeMimeType(WIDGET_VIEW_MIMETYPE);
    manager.dispose();
  });
}

const managerClasses = new WeakMap<
  WidgetManagerHooks,
  ManagerModule['WidgetManager']
>();

/**
 * The widget manager class, made to restore without a kernel: no models to ask a kernel
 * for, no live comms, and no saved state for the models that the doc says are live.
 */
function kernellessManagerClass(
  hooks: WidgetManagerHooks
): ManagerModule['WidgetManager'] {
  let managerClass = managerClasses.get(hooks);
  if (!managerClass) {
    managerClass = class KernellessWidgetManager extends (
      hooks.module.WidgetManager
    ) {
      protected async _loadFromKernel(): Promise<void> {
        if (this.kernel) {
          return super._loadFromKernel();
        }
      }

      async _get_comm_info(): Promise<Record<string, unknown>> {
        return this.kernel ? super._get_comm_info() : {};
      }

      /**
       * A model of a library that no manager of the page registered yet is looked for in
       * the page's shared packages.
       */
      protected async loadClass(
        className: string,
        moduleName: string,
        moduleVersion: string
      ): Promise<Awaited<ReturnType<WidgetManager['loadClass']>>> {
        try {
          return await super.loadClass(className, moduleName, moduleVersion);
        } catch (error) {
          // Asked once per module, by every model that needs it at the same time.
          let registering = this._shared.get(moduleName);
          if (!registering) {
            registering = sharedWidgetModule(moduleName).then(shared => {
              if (shared) {
                this.register(shared);
              }
              return shared !== null;
            });
            this._shared.set(moduleName, registering);
          }
          if (!(await registering)) {
            throw error;
          }
          return super.loadClass(className, moduleName, moduleVersion);
        }
      }

      private _shared = new Map<string, Promise<boolean>>();

      protected filterExistingModelState(state: IWidgetState): IWidgetState {
        const kept = super.filterExistingModelState(state) as IWidgetState;
        const doc = hooks.docOf(this as WidgetManager);
        if (!doc || this.kernel) {
          return kept;
        }
        const models = Object.fromEntries(
          Object.entries(kept.state ?? {}).filter(
            ([modelId]) => !doc.isLive(modelId)
          )
        );
        return { ...kept, state: models };
      }
    };
    managerClasses.set(hooks, managerClass);
  }
  return managerClass;
}

/**
 * The parts of a saved widget state that the manager filters.
 */
interface IWidgetState {
  state?: Record<string, unknown>;
  [key: string]: unknown;
}
