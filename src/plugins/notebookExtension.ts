/**
 * Views added to every notebook panel through JupyterLab's widget extensions, from a
 * module loaded with the first notebook rather than while the application starts.
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import { DisposableSet, type IDisposable } from '@lumino/disposable';

/**
 * A widget extension for the `Notebook` factory: once `load` has given its module,
 * `attach` adds the views to the panel; they are disposed with the panel.
 */
export interface INotebookExtension {
  createNew(panel: NotebookPanel): IDisposable;
}

export function lazyNotebookExtension<M>(options: {
  /**
   * Load what the views need; called once, for the first panel.
   */
  load: () => Promise<M>;
  /**
   * Add the views to a panel; what it returns is disposed with the panel.
   */
  attach: (module: M, panel: NotebookPanel) => IDisposable;
  /**
   * What the views show, for the log.
   */
  what: string;
}): INotebookExtension {
  let loaded: Promise<M> | null = null;
  return {
    createNew: (panel: NotebookPanel): IDisposable => {
      const views = new DisposableSet();
      loaded ??= options.load();
      loaded
        .then(module => {
          if (!panel.isDisposed && !views.isDisposed) {
            views.add(options.attach(module, panel));
          }
        })
        .catch(reason => {
          console.error(
            `jupyterlab-collab-exec: cannot show ${options.what}`,
            reason
          );
        });
      return views;
    }
  };
}
