/**
 * The runs of a notebook's history, as `GET /api/collab-exec/history` gives them, and
 * the readers of its answers. Nothing from the network is trusted: each reader returns a
 * well-typed value or null, and never throws.
 */
import type * as nbformat from '@jupyterlab/nbformat';

import { parsePerson, parseReason } from '../doc/parse';
import {
  FINAL_STATUSES,
  type IPerson,
  type RequestStatus
} from '../doc/schema';

/**
 * A run of a cell, or a restore of an earlier run's outputs into it.
 */
export type RunKind = 'run' | 'restore';

/**
 * An input answered during a run; a password's value is always null.
 */
export interface IAnsweredInput {
  prompt: string;
  password: boolean;
  value: string | null;
  answered_by: IPerson | null;
  answered_at: number | null;
}

/**
 * One run as the history's listing gives it: everything but its outputs.
 */
export interface IRunSummary {
  run_id: string;
  cell_id: string;
  source: string;
  execution_count: number | null;
  status: RequestStatus;
  reason: string | null;
  submitted_by: IPerson;
  submitted_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  output_count: number;
  inputs: IAnsweredInput[];
  kind: RunKind;
  /** For a restore: the run whose outputs it put back. */
  restored_from: string | null;
}

/**
 * One run with its outputs (nbformat).
 */
export interface IRunDetail extends IRunSummary {
  outputs: nbformat.IOutput[];
}

/**
 * A page of runs, newest first, and where the next one starts.
 */
export interface IRunPage {
  runs: IRunSummary[];
  next: string | null;
}

function fields(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function parseAnsweredInput(value: unknown): IAnsweredInput | null {
  const input = fields(value);
  if (!input || typeof input.prompt !== 'string') {
    return null;
  }
  const password = input.password === true;
  const answeredBy = fields(input.answered_by);
  return {
    prompt: input.prompt,
    password,
    value: !password && typeof input.value === 'string' ? input.value : null,
    answered_by: answeredBy ? parsePerson(answeredBy) : null,
    answered_at: numberOrNull(input.answered_at)
  };
}

/**
 * Read one run of a listing, or null if it is malformed.
 */
export function parseRunSummary(value: unknown): IRunSummary | null {
  const run = fields(value);
  if (
    !run ||
    typeof run.run_id !== 'string' ||
    !run.run_id ||
    typeof run.cell_id !== 'string' ||
    typeof run.source !== 'string' ||
    !FINAL_STATUSES.has(run.status as RequestStatus)
  ) {
    return null;
  }
  const inputs = Array.isArray(run.inputs) ? run.inputs : [];
  return {
    run_id: run.run_id,
    cell_id: run.cell_id,
    source: run.source,
    execution_count: numberOrNull(run.execution_count),
    status: run.status as RequestStatus,
    reason: parseReason(run.reason) ?? null,
    submitted_by: parsePerson(run.submitted_by),
    submitted_at: numberOrNull(run.submitted_at),
    started_at: numberOrNull(run.started_at),
    finished_at: numberOrNull(run.finished_at),
    output_count: Math.max(0, numberOrNull(run.output_count) ?? 0),
    inputs: inputs
      .map(parseAnsweredInput)
      .filter((input): input is IAnsweredInput => input !== null),
    kind: run.kind === 'restore' ? 'restore' : 'run',
    restored_from:
      typeof run.restored_from === 'string' ? run.restored_from : null
  };
}

/**
 * Read a page of the listing, or null if it is malformed; malformed runs are left out.
 */
export function parseRunPage(value: unknown): IRunPage | null {
  const page = fields(value);
  if (!page || !Array.isArray(page.runs)) {
    return null;
  }
  return {
    runs: page.runs
      .map(parseRunSummary)
      .filter((run): run is IRunSummary => run !== null),
    next: typeof page.next === 'string' && page.next ? page.next : null
  };
}

const OUTPUT_TYPES = new Set([
  'stream',
  'display_data',
  'execute_result',
  'error'
]);

/**
 * Read one run with its outputs, or null if it is malformed; outputs of an unknown type
 * are left out.
 */
export function parseRunDetail(value: unknown): IRunDetail | null {
  const summary = parseRunSummary(value);
  const outputs = fields(value)?.outputs;
  if (!summary || !Array.isArray(outputs)) {
    return null;
  }
  return {
    ...summary,
    outputs: outputs.filter((output): output is nbformat.IOutput =>
      OUTPUT_TYPES.has(fields(output)?.output_type as string)
    )
  };
}

/**
 * How long a run took, in ms, or null when it never started or never ended.
 */
export function runDuration(run: IRunSummary): number | null {
  return run.started_at !== null && run.finished_at !== null
    ? Math.max(0, run.finished_at - run.started_at)
    : null;
}
