/**
 * What one notebook panel needs of the widget manager under server execution:
 *
 * - A notebook opened without a kernel gets a widget manager of its own: its widgets
 *   render frozen from the doc and the saved state, and when a kernel arrives the manager
 *   serves it (without one, the browser would close every widget's comm in the kernel).
 *   The view joins the kernel that a collaborator starts for the room.
 * - A model that this browser holds follows the doc (when: followTimer.ts; how: follow.ts):
 *   a browser whose kernel websocket dropped updates (jupyter_server's rate limit) ends
 *   with the kernel's values, as the server's own connection saw them. It follows only an
 *   entry that the server confirms it wrote, and not while this browser's copy is newer;
 *   once it followed, the kernel's older updates are dropped (kernelUpdates.ts).
 */
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { IDisposable } from '@lumino/disposable';
import type * as Y from 'yjs';

import { Disposable } from '../common/disposable';
import { CollabExecModel } from '../doc/model';
import { notebookYDoc } from '../doc/notebook';
import { managerDocumentId, WidgetDoc } from './doc';
import { stateToFollow } from './follow';
import { FollowTimer } from './followTimer';
import { followedDoc, receivedKernelTime } from './kernelUpdates';
import { unechoedKeys } from './internals';
import type { WidgetManagerHooks } from './hooks';
import {
  attachKernellessManager,
  standardWidgetModules
} from './kernellessManager';

/**
 * What one notebook panel needs: a manager when it has no kernel, and its models
 * following the doc.
 */
export class WidgetPanelSync extends Disposable {
  constructor(panel: NotebookPanel, hooks: WidgetManagerHooks) {
    super();
    this._panel = panel;
    this._hooks = hooks;
    panel.disposed.connect(this.dispose, this);
    this._followTimer.due.connect((_, modelId) => void this._follow(modelId));
    void this._whenReady();
    this._followDoc();
  }

  protected onDispose(): void {
    this._doc?.root.unobserveDeep(this._onDocChange);
    this._followTimer.dispose();
    this._kernellessManager?.dispose();
    this._collab?.changed.disconnect(this._joinRoomKernel, this);
    for (const stop of this._listening.values()) {
      stop();
    }
    this._listening.clear();
  }

  private async _whenReady(): Promise<void> {
    const sessionContext = this._panel.context.sessionContext;
    await sessionContext.ready;
    if (this.isDisposed || sessionContext.session?.kernel) {
      // The widget extension makes the manager itself.
      return;
    }
    const modules = await standardWidgetModules(this._hooks.module);
    if (this.isDisposed) {
      return;
    }
    this._kernellessManager = attachKernellessManager(
      this._panel,
      this._hooks,
      modules
    );
    // A collaborator may start the room's kernel later: this view joins it, as it would
    // have had the kernel existed when it opened (JupyterLab looks only then).
    const model = this._panel.context.model;
    const ydoc = model ? notebookYDoc(model) : null;
    if (ydoc) {
      this._collab = CollabExecModel.forDoc(ydoc);
      this._collab.changed.connect(this._joinRoomKernel, this);
      this._joinRoomKernel();
    }
  }

  private _joinRoomKernel(): void {
    const sessionContext = this._panel.context.sessionContext;
    const kernel = this._collab?.kernel;
    if (
      this.isDisposed ||
      this._joining ||
      sessionContext.session ||
      !kernel?.kernel_id ||
      kernel.execution_state === 'dead'
    ) {
      return;
    }
    this._joining = true;
    this._collab?.changed.disconnect(this._joinRoomKernel, this);
    sessionContext.changeKernel({ id: kernel.kernel_id }).catch(reason => {
      console.warn('jupyterlab-collab-exec: cannot join the kernel', reason);
    });
  }

  private _followDoc(): void {
    const model = this._panel.context.model;
    const ydoc = model ? notebookYDoc(model) : null;
    if (!ydoc) {
      return;
    }
    this._doc = new WidgetDoc(ydoc);
    this._doc.root.observeDeep(this._onDocChange);
  }

  private _onDocChange = (
    events: Array<Y.YEvent<Y.AbstractType<unknown>>>
  ): void => {
    for (const modelId of WidgetDoc.changedModels(events)) {
      this._followTimer.changed(modelId);
      void this._listen(modelId);
    }
  };

  private async _listen(modelId: string): Promise<void> {
    const manager = this._hooks.managerOf(this._panel.context);
    if (!manager?.has_model(modelId) || this._listening.has(modelId)) {
      return;
    }
    // Taken at once, so that the model is listened to once.
    this._listening.set(modelId, () => undefined);
    const model = await manager.get_model(modelId);
    if (this.isDisposed) {
      return;
    }
    // A view sends its user's change right after it sets it: look once it has.
    const onChange = () =>
      queueMicrotask(() => {
        if (unechoedKeys(model).size) {
          this._followTimer.changedHere(modelId);
        } else {
          this._followTimer.changed(modelId);
        }
      });
    const stop = () => model.off('change', onChange);
    model.on('change', onChange);
    model.once('comm:close', () => {
      stop();
      this._listening.delete(modelId);
    });
    this._listening.set(modelId, stop);
  }

  /**
   * Bring this browser's copy of a model in line with the doc.
   */
  private async _follow(modelId: string): Promise<void> {
    const manager = this._hooks.managerOf(this._panel.context);
    const entry = this._doc?.model(modelId);
    if (
      this.isDisposed ||
      !manager ||
      !entry?.live ||
      !manager.has_model(modelId)
    ) {
      return;
    }
    // Only what the server wrote is followed.
    if (!(await this._hooks.entryConfirmed(manager, modelId, entry))) {
      return;
    }
    const model = await manager.get_model(modelId);
    const received = receivedKernelTime(model);
    if (
      entry.kernel_time !== undefined &&
      received !== undefined &&
      received > entry.kernel_time
    ) {
      // The kernel's messages brought this copy past the doc: the doc's next change,
      // which catches up, arms the follow again.
      return;
    }
    const wire = this.isDisposed
      ? null
      : await this._hooks.values.wireState(managerDocumentId(manager), entry);
    const state =
      wire && !this.isDisposed
        ? await stateToFollow(model, wire, manager)
        : null;
    if (state && !this.isDisposed) {
      // As an update from the kernel: applied here, not sent back.
      model.set_state(state);
    }
    if (entry.kernel_time !== undefined && !this.isDisposed) {
      followedDoc(model, entry.kernel_time);
    }
  }

  private _panel: NotebookPanel;
  private _hooks: WidgetManagerHooks;
  private _doc: WidgetDoc | null = null;
  private _followTimer = new FollowTimer();
  private _kernellessManager: IDisposable | null = null;
  private _collab: CollabExecModel | null = null;
  private _joining = false;
  // The models of this browser that are followed, and how to stop.
  private _listening = new Map<string, () => void>();
}
