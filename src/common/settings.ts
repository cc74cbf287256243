/**
 * The user's settings, held once for every plugin: defaults until the setting registry
 * has answered, then followed live.
 */
import { type ISignal, Signal } from '@lumino/signaling';

/**
 * The user's settings of jupyterlab-collab-exec, as they are now.
 */
export interface ICollabExecSettings {
  /**
   * Whether code cells of collaborative notebooks run on the server.
   */
  readonly serverExecution: boolean;
  /**
   * Whether code cells show their status badge.
   */
  readonly showStatusBadges: boolean;
  /**
   * Emitted when a setting changes.
   */
  readonly changed: ISignal<ICollabExecSettings, void>;
}

/**
 * The keys of `schema/plugin.json`.
 */
export type SettingValues = Pick<
  ICollabExecSettings,
  'serverExecution' | 'showStatusBadges'
>;

export class CollabExecSettings implements ICollabExecSettings {
  constructor(values: Partial<SettingValues> = {}) {
    this._values = { ...DEFAULTS, ...values };
  }

  get serverExecution(): boolean {
    return this._values.serverExecution;
  }
  set serverExecution(value: boolean) {
    this.update({ serverExecution: value });
  }

  get showStatusBadges(): boolean {
    return this._values.showStatusBadges;
  }
  set showStatusBadges(value: boolean) {
    this.update({ showStatusBadges: value });
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Take new values; `changed` is emitted once, and only if one of them differs.
   */
  update(values: Partial<SettingValues>): void {
    const next = { ...this._values, ...values };
    if (
      next.serverExecution === this._values.serverExecution &&
      next.showStatusBadges === this._values.showStatusBadges
    ) {
      return;
    }
    this._values = next;
    this._changed.emit();
  }

  private _values: SettingValues;
  private _changed = new Signal<this, void>(this);
}

/**
 * The defaults of `schema/plugin.json`.
 */
const DEFAULTS: SettingValues = {
  serverExecution: true,
  showStatusBadges: true
};
