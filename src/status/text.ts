/**
 * What a cell's status badge says about its latest request: the label, the elapsed time,
 * the server's reason for ending it, and the tooltip. Pure: no DOM, no doc.
 */
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';

import type { IQueuePosition } from '../doc/queue';
import type { IRequestEntry, RequestStatus } from '../doc/schema';

/**
 * A duration, compact: `0s`, `42s`, `3m 05s`, `2h 07m`. Negative durations (clock skew
 * between the server and this browser) count as zero.
 */
export function formatDuration(ms: number, trans: TranslationBundle): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) {
    return trans.__('%1s', seconds);
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return trans.__('%1m %2s', minutes, pad(seconds % 60));
  }
  return trans.__('%1h %2m', Math.floor(minutes / 60), pad(minutes % 60));
}

function pad(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}

/**
 * Formats a time (ms since epoch) relative to `now` (to leave out the date on the same
 * day); `precise` adds seconds.
 */
export type TimeFormatter = (
  time: number,
  now: number,
  precise: boolean
) => string;

/**
 * The default time format: the user's locale, with the date only for another day.
 */
export const formatTime: TimeFormatter = (time, now, precise) => {
  const date = new Date(time);
  const options: Intl.DateTimeFormatOptions = {
    hour: '2-digit',
    minute: '2-digit'
  };
  if (precise) {
    options.second = '2-digit';
  }
  if (date.toDateString() !== new Date(now).toDateString()) {
    options.year = 'numeric';
    options.month = 'short';
    options.day = 'numeric';
  }
  return date.toLocaleString(undefined, options);
};

/**
 * What a cell badge shows.
 */
export interface IBadgeState {
  status: RequestStatus;
  /**
   * The visible text, without the elapsed time.
   */
  label: string;
  /**
   * Time elapsed since the request started, shown after the label and refreshed by a
   * timer; only while the request runs.
   */
  elapsed: string | null;
  /**
   * The tooltip, with the full details.
   */
  title: string;
  /**
   * Why the server ended the request, shown after the label; only for an interrupted or
   * cancelled request whose entry gives a reason.
   */
  reason?: string;
}

export interface IBadgeOptions {
  /**
   * The current time, in ms since epoch.
   */
  now: number;
  /**
   * The queue position of the request, when it is queued.
   */
  queue?: IQueuePosition | null;
  trans?: TranslationBundle;
  formatTime?: TimeFormatter;
}

/**
 * What the badge of a cell shows for its latest request.
 */
export function badgeState(
  entry: IRequestEntry,
  options: IBadgeOptions
): IBadgeState {
  const trans = options.trans ?? nullTranslator.load('jupyterlab-collab-exec');
  const format = options.formatTime ?? formatTime;
  const now = options.now;
  const who = entry.submitted_by.display_name || trans.__('an unknown user');
  const submitted = format(entry.submitted_at, now, true);
  const started =
    entry.started_at !== undefined ? format(entry.started_at, now, true) : null;
  const count =
    entry.execution_count !== undefined
      ? trans.__('Execution count: %1.', entry.execution_count)
      : '';
  const join = (...parts: string[]) => parts.filter(part => !!part).join(' ');

  switch (entry.status) {
    case 'queued': {
      const queue = options.queue;
      return {
        status: entry.status,
        label: queue
          ? trans.__('Queued (%1 of %2)', queue.position, queue.total)
          : trans.__('Queued'),
        elapsed: null,
        title: join(
          trans.__('Queued by %1 at %2.', who, submitted),
          queue
            ? trans.__(
                "Position %1 of %2 in the kernel's queue.",
                queue.position,
                queue.total
              )
            : ''
        )
      };
    }
    case 'running': {
      const since = entry.started_at ?? entry.submitted_at;
      const elapsed = formatDuration(now - since, trans);
      return {
        status: entry.status,
        label: trans.__('Running · %1', who),
        elapsed,
        title: trans.__(
          'Running since %1 (%2), run by %3.',
          format(since, now, true),
          elapsed,
          who
        )
      };
    }
    case 'awaiting_input':
      return {
        status: entry.status,
        label: trans.__('Waiting for input · %1', who),
        elapsed: null,
        title: join(
          trans.__('Waiting for input; run by %1.', who),
          started ? trans.__('Started at %1.', started) : ''
        )
      };
    case 'ok':
    case 'error': {
      const finishedAt =
        entry.finished_at ?? entry.started_at ?? entry.submitted_at;
      const finished = format(finishedAt, now, false);
      const took =
        entry.finished_at !== undefined && entry.started_at !== undefined
          ? trans.__(
              'It took %1.',
              formatDuration(entry.finished_at - entry.started_at, trans)
            )
          : '';
      const ok = entry.status === 'ok';
      return {
        status: entry.status,
        label: ok
          ? trans.__('Run by %1 · %2', who, finished)
          : trans.__('Failed · Run by %1 · %2', who, finished),
        elapsed: null,
        title: join(
          ok
            ? trans.__(
                'Run by %1, finished at %2.',
                who,
                format(finishedAt, now, true)
              )
            : trans.__(
                'Run by %1, failed at %2.',
                who,
                format(finishedAt, now, true)
              ),
          took,
          count
        )
      };
    }
    case 'cancelled':
      return withReason(entry.reason, trans, {
        status: entry.status,
        label: trans.__('Cancelled'),
        elapsed: null,
        title: trans.__(
          'Cancelled before it ran. It was queued by %1 at %2.',
          who,
          submitted
        )
      });
    case 'interrupted':
      return withReason(entry.reason, trans, {
        status: entry.status,
        label: trans.__('Interrupted'),
        elapsed: null,
        title: join(
          trans.__('Interrupted; run by %1.', who),
          started ? trans.__('Started at %1.', started) : ''
        )
      });
  }
}

/**
 * Add the server's reason, if there is one, to a badge and to its tooltip.
 */
function withReason(
  reason: string | undefined,
  trans: TranslationBundle,
  state: IBadgeState
): IBadgeState {
  if (!reason) {
    return state;
  }
  return {
    ...state,
    reason,
    title: `${state.title} ${trans.__('Reason: %1', reason)}`
  };
}
