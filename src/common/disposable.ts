/**
 * The one way this extension's views and followers are disposed: once, and then their
 * signals are cleared. A subclass says what it releases in `onDispose`.
 */
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';

export abstract class Disposable implements IDisposable {
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.onDispose();
    Signal.clearData(this);
  }

  /**
   * Release what the object holds; called once, by `dispose`.
   */
  protected abstract onDispose(): void;

  private _isDisposed = false;
}
