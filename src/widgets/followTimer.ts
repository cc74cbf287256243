/**
 * When a browser's copy of a model follows the doc. It waits until the doc and the copy
 * have been quiet for a moment, since the kernel's messages to this browser may still be
 * coming after the doc settled; but while they keep changing it follows at least every
 * `maxLagMs`, so that a browser whose kernel messages were dropped stays close behind.
 * While this browser's user changes the model (a slider being dragged), only the quiet
 * rule holds: their value is ahead of the doc.
 */
import { type ISignal, Signal } from '@lumino/signaling';

import { Disposable } from '../common/disposable';

/**
 * How long the doc and the copy must be quiet before the copy follows.
 */
export const FOLLOW_QUIET_MS = 300;

/**
 * How far behind the doc a copy may fall while both keep changing.
 */
export const FOLLOW_MAX_LAG_MS = 700;

export class FollowTimer extends Disposable {
  constructor(
    options: { quietMs?: number; maxLagMs?: number; now?: () => number } = {}
  ) {
    super();
    this._quietMs = options.quietMs ?? FOLLOW_QUIET_MS;
    this._maxLagMs = options.maxLagMs ?? FOLLOW_MAX_LAG_MS;
    this._now = options.now ?? Date.now;
  }

  /**
   * A model whose copy should follow the doc now.
   */
  get due(): ISignal<this, string> {
    return this._due;
  }

  /**
   * The doc's entry of a model changed, or the kernel changed this browser's copy.
   */
  changed(modelId: string): void {
    const now = this._now();
    const since = this._since.get(modelId) ?? now;
    this._since.set(modelId, since);
    this._arm(modelId, Math.min(this._quietMs, since + this._maxLagMs - now));
  }

  /**
   * This browser's user changed the model: wait for quiet, however long that takes.
   */
  changedHere(modelId: string): void {
    this._since.set(modelId, this._now());
    this._arm(modelId, this._quietMs);
  }

  /**
   * Whether a follow of this model is waiting.
   */
  isPending(modelId: string): boolean {
    return this._timers.has(modelId);
  }

  protected onDispose(): void {
    for (const timer of this._timers.values()) {
      clearTimeout(timer);
    }
    this._timers.clear();
    this._since.clear();
  }

  private _arm(modelId: string, delay: number): void {
    clearTimeout(this._timers.get(modelId));
    this._timers.set(
      modelId,
      setTimeout(
        () => {
          this._timers.delete(modelId);
          this._since.delete(modelId);
          this._due.emit(modelId);
        },
        Math.max(0, delay)
      )
    );
  }

  private _quietMs: number;
  private _maxLagMs: number;
  private _now: () => number;
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
  // When each waiting model first changed without being followed.
  private _since = new Map<string, number>();
  private _due = new Signal<this, string>(this);
}
