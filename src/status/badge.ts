/**
 * The status badge of one code cell: a line between the cell's input and its outputs
 * that shows what `badgeState` says about the cell's latest request.
 */
import { type ISignal, Signal } from '@lumino/signaling';
import { historyIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { createElement, LIVE_STATUS, setAttributes } from '../common/dom';
import type { RequestStatus } from '../doc/schema';
import type { IBadgeState } from './text';

/**
 * The class of every cell badge.
 */
export const BADGE_CLASS = 'jp-CollabExec-badge';

/**
 * The CSS modifier of a status: `jp-mod-awaitingInput` for `awaiting_input`.
 */
export function statusClass(status: RequestStatus): string {
  return status.replace(/_([a-z])/g, (_match, letter: string) =>
    letter.toUpperCase()
  );
}

/**
 * The badge of one cell; hidden while it has no state. When the server keeps a run
 * history, the badge opens the cell's history: a click on it, or its History button.
 */
export class CellStatusBadge extends Widget {
  constructor() {
    super();
    this.addClass(BADGE_CLASS);
    setAttributes(this.node, LIVE_STATUS);
    // An icon alone, so that the badge's text stays its status.
    this._history = createElement('button', 'jp-CollabExec-badgeHistory', {
      type: 'button'
    });
    historyIcon.element({ container: this._history, tag: 'span' });
    this._history.hidden = true;
    this._history.addEventListener('click', this._onHistory);
    this._label = createElement('span', 'jp-CollabExec-badgeLabel');
    // The elapsed time changes every second: a timer, not announced.
    this._elapsed = createElement('span', 'jp-CollabExec-badgeElapsed', {
      role: 'timer',
      'aria-live': 'off'
    });
    this._reason = createElement('span', 'jp-CollabExec-badgeReason');
    this.node.append(this._label, this._elapsed, this._reason, this._history);
    this.node.addEventListener('click', this._onHistory);
    this.hide();
  }

  /**
   * Emitted when someone asks for the cell's run history.
   */
  get historyRequested(): ISignal<this, void> {
    return this._historyRequested;
  }

  /**
   * Offer the cell's run history, under this name for the button; null offers none.
   */
  setHistory(label: string | null): void {
    if (label === this._historyLabel) {
      return;
    }
    this._historyLabel = label;
    this._history.hidden = label === null;
    this.toggleClass('jp-mod-history', label !== null);
    if (label !== null) {
      this._history.setAttribute('aria-label', label);
      this._history.title = label;
    }
  }

  private _onHistory = (event: MouseEvent): void => {
    if (this._history.hidden) {
      return;
    }
    event.stopPropagation();
    this._historyRequested.emit();
  };

  /**
   * What the badge shows, or null when it is hidden.
   */
  get state(): IBadgeState | null {
    return this._state;
  }

  render(state: IBadgeState | null): void {
    const previous = this._state;
    this._state = state;
    if (previous && previous.status !== state?.status) {
      this.removeClass(`jp-mod-${statusClass(previous.status)}`);
    }
    if (!state) {
      delete this.node.dataset.status;
      this._label.textContent = '';
      this._elapsed.textContent = '';
      this._setReason(undefined);
      this.node.removeAttribute('title');
      this.hide();
      return;
    }
    this.addClass(`jp-mod-${statusClass(state.status)}`);
    this.node.dataset.status = state.status;
    if (this._label.textContent !== state.label) {
      this._label.textContent = state.label;
    }
    this._elapsed.textContent = state.elapsed ? ` · ${state.elapsed}` : '';
    this._setReason(state.reason);
    this.node.title = state.title;
    this.show();
  }

  /**
   * Show the server's reason after the label; as the reason may be cut to fit, its own
   * tooltip holds it whole.
   */
  private _setReason(reason: string | undefined): void {
    this._reason.textContent = reason ? ` · ${reason}` : '';
    if (reason) {
      this._reason.title = reason;
    } else {
      this._reason.removeAttribute('title');
    }
  }

  private _state: IBadgeState | null = null;
  private _history: HTMLButtonElement;
  private _historyLabel: string | null = null;
  private _historyRequested = new Signal<this, void>(this);
  private _label: HTMLElement;
  private _elapsed: HTMLElement;
  private _reason: HTMLElement;
}
