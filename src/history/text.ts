/**
 * What the history views say about a run: its line in a list, and the facts above its
 * outputs. Pure: no DOM, no doc.
 */
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';

import type { RequestStatus } from '../doc/schema';
import { formatDuration, formatTime, type TimeFormatter } from '../status/text';
import { type IRunSummary, runDuration } from '../server/runs';

export interface IRunTextOptions {
  /**
   * The current time, in ms since epoch.
   */
  now: number;
  trans?: TranslationBundle;
  formatTime?: TimeFormatter;
}

/**
 * The line of a run in a list, and its tooltip.
 */
export interface IRunLine {
  /**
   * The execution count in brackets, as the cell's prompt shows it, or a blank prompt.
   */
  prompt: string;
  /**
   * Who, and what happened.
   */
  label: string;
  /**
   * When it ended, and how long it took.
   */
  when: string;
  /**
   * Every fact at once, for the tooltip and for screen readers.
   */
  title: string;
}

/**
 * The words of a final status.
 */
export function statusText(
  status: RequestStatus,
  trans: TranslationBundle
): string {
  switch (status) {
    case 'ok':
      return trans.__('Finished');
    case 'error':
      return trans.__('Failed');
    case 'cancelled':
      return trans.__('Cancelled');
    case 'interrupted':
      return trans.__('Interrupted');
    default:
      return status;
  }
}

/**
 * The time that a run is listed under: when it ended, or when it was asked for.
 */
export function runTime(run: IRunSummary): number | null {
  return run.finished_at ?? run.started_at ?? run.submitted_at;
}

/**
 * The line of a run in a list.
 */
export function runLine(run: IRunSummary, options: IRunTextOptions): IRunLine {
  const trans = options.trans ?? nullTranslator.load('jupyterlab-collab-exec');
  const format = options.formatTime ?? formatTime;
  const who = run.submitted_by.display_name || trans.__('an unknown user');
  const time = runTime(run);
  const at = time !== null ? format(time, options.now, true) : '';
  const duration = runDuration(run);
  const took = duration !== null ? formatDuration(duration, trans) : '';
  const prompt =
    run.execution_count !== null ? `[${run.execution_count}]` : '[ ]';
  const label =
    run.kind === 'restore'
      ? trans.__('Restored by %1', who)
      : trans.__('%1 · %2', statusText(run.status, trans), who);
  const when = took ? trans.__('%1 · %2', at, took) : at;
  const title = [
    run.kind === 'restore'
      ? trans.__('Outputs of an earlier run restored by %1 at %2.', who, at)
      : trans.__(
          '%1: run by %2, at %3.',
          statusText(run.status, trans),
          who,
          at
        ),
    took ? trans.__('It took %1.', took) : '',
    run.execution_count !== null
      ? trans.__('Execution count: %1.', run.execution_count)
      : '',
    run.reason ? trans.__('Reason: %1', run.reason) : '',
    trans._n('%1 output.', '%1 outputs.', run.output_count)
  ]
    .filter(part => !!part)
    .join(' ');
  return { prompt, label, when, title };
}

/**
 * The facts shown above a run's outputs, one per line.
 */
export function runFacts(run: IRunSummary, options: IRunTextOptions): string[] {
  const trans = options.trans ?? nullTranslator.load('jupyterlab-collab-exec');
  const format = options.formatTime ?? formatTime;
  const now = options.now;
  const facts: string[] = [];
  const who = run.submitted_by.display_name || trans.__('an unknown user');
  if (run.kind === 'restore') {
    facts.push(trans.__('Outputs of an earlier run, restored by %1.', who));
  } else {
    facts.push(trans.__('%1, run by %2.', statusText(run.status, trans), who));
  }
  if (run.submitted_at !== null) {
    facts.push(
      trans.__('Asked for at %1.', format(run.submitted_at, now, true))
    );
  }
  if (run.started_at !== null) {
    facts.push(trans.__('Started at %1.', format(run.started_at, now, true)));
  }
  if (run.finished_at !== null) {
    facts.push(trans.__('Ended at %1.', format(run.finished_at, now, true)));
  }
  const duration = runDuration(run);
  if (duration !== null) {
    facts.push(trans.__('It took %1.', formatDuration(duration, trans)));
  }
  if (run.execution_count !== null) {
    facts.push(trans.__('Execution count: %1.', run.execution_count));
  }
  if (run.reason) {
    facts.push(trans.__('Reason: %1', run.reason));
  }
  for (const input of run.inputs) {
    const by = input.answered_by?.display_name || trans.__('an unknown user');
    facts.push(
      input.password
        ? trans.__('%1 answered the password prompt "%2".', by, input.prompt)
        : trans.__(
            '%1 answered "%2" to "%3".',
            by,
            input.value ?? '',
            input.prompt
          )
    );
  }
  return facts;
}
