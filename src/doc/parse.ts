/**
 * Readers of the values found under `collab_exec`.
 *
 * Any client can write anything into a Y.Doc, so nothing read there is trusted: each
 * reader returns a well-typed value or null, and never throws.
 */
import * as Y from 'yjs';

import {
  INPUT_STATUSES,
  type IInputEntry,
  type IKernelEntry,
  type InputStatus,
  type IPerson,
  type IRequestEntry,
  KERNEL_EXECUTION_STATES,
  REQUEST_STATUSES,
  type RequestStatus
} from './schema';

/**
 * The longest reason shown, in UTF-16 code units: a reason is a sentence, and a
 * tampered one must not flood the page.
 */
export const REASON_MAX_LENGTH = 300;

/**
 * A check that a field holds a value of type `T`.
 */
type Guard<T> = (value: unknown) => value is T;

function oneOf<T>(values: ReadonlyArray<T>): Guard<T> {
  return (value: unknown): value is T => values.includes(value as T);
}

const isString: Guard<string> = (value): value is string =>
  typeof value === 'string';

const isBoolean: Guard<boolean> = (value): value is boolean =>
  typeof value === 'boolean';

const isFiniteNumber: Guard<number> = (value): value is number =>
  typeof value === 'number' && Number.isFinite(value);

const isRequestStatus: Guard<RequestStatus> = oneOf(REQUEST_STATUSES);

function optionalNumber(value: unknown): number | undefined {
  return isFiniteNumber(value) ? value : undefined;
}

/**
 * The fields that `guards` names, read from a Y.Map; null unless the value is a map
 * whose every such field passes its guard.
 */
function required<T>(
  value: unknown,
  guards: { [K in keyof T]: Guard<T[K]> }
): { map: Y.Map<unknown>; fields: T } | null {
  if (!(value instanceof Y.Map)) {
    return null;
  }
  const map = value as Y.Map<unknown>;
  const fields: Partial<T> = {};
  for (const key of Object.keys(guards) as Array<keyof T & string>) {
    const field = map.get(key);
    if (!guards[key](field)) {
      return null;
    }
    fields[key] = field;
  }
  return { map, fields: fields as T };
}

/**
 * A person as the server writes one: names that are not strings become empty, and an
 * empty display name falls back to the username. Anything else gives empty names.
 */
export function parsePerson(value: unknown): IPerson {
  const record =
    value && typeof value === 'object'
      ? (value as Record<string, unknown>)
      : {};
  const username = typeof record.username === 'string' ? record.username : '';
  const displayName =
    typeof record.display_name === 'string' ? record.display_name : '';
  return { username, display_name: displayName || username };
}

/**
 * A reason, trimmed and cut to `REASON_MAX_LENGTH`; undefined unless it is a string
 * with some text.
 */
export function parseReason(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  const reason = value.trim();
  if (reason.length <= REASON_MAX_LENGTH) {
    return reason || undefined;
  }
  let end = REASON_MAX_LENGTH - 1;
  // Never keep half of a surrogate pair.
  const last = reason.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) {
    end--;
  }
  return `${reason.slice(0, end)}…`;
}

/**
 * Read `collab_exec.kernel`, or null if it is malformed.
 */
export function parseKernel(value: unknown): IKernelEntry | null {
  return (
    required<IKernelEntry>(value, {
      kernel_id: isString,
      execution_state: oneOf(KERNEL_EXECUTION_STATES)
    })?.fields ?? null
  );
}

/**
 * Read one entry of `collab_exec.requests`, or null if it is malformed.
 */
export function parseRequest(
  requestId: string,
  value: unknown
): IRequestEntry | null {
  const read = required<
    Pick<IRequestEntry, 'cell_id' | 'kernel_id' | 'status' | 'submitted_at'>
  >(value, {
    cell_id: isString,
    kernel_id: isString,
    status: isRequestStatus,
    submitted_at: isFiniteNumber
  });
  if (!read) {
    return null;
  }
  const { map, fields } = read;
  return {
    request_id: requestId,
    ...fields,
    submitted_by: parsePerson(map.get('submitted_by')),
    ...present({
      started_at: optionalNumber(map.get('started_at')),
      finished_at: optionalNumber(map.get('finished_at')),
      execution_count: optionalNumber(map.get('execution_count')),
      reason: parseReason(map.get('reason'))
    })
  };
}

/**
 * Read one entry of `collab_exec.inputs`, or null if it is malformed.
 */
export function parseInput(
  inputId: string,
  value: unknown
): IInputEntry | null {
  const read = required<
    Pick<
      IInputEntry,
      'request_id' | 'cell_id' | 'prompt' | 'password' | 'status'
    >
  >(value, {
    request_id: isString,
    cell_id: isString,
    prompt: isString,
    password: isBoolean,
    status: oneOf<InputStatus>(INPUT_STATUSES)
  });
  if (!read) {
    return null;
  }
  const { map, fields } = read;
  const answeredBy: unknown = map.get('answered_by');
  return {
    input_id: inputId,
    ...fields,
    ...present({
      answered_by:
        answeredBy === undefined || answeredBy === null
          ? undefined
          : parsePerson(answeredBy),
      answered_at: optionalNumber(map.get('answered_at'))
    })
  };
}

/**
 * The fields that have a value: optional keys stay out of an entry rather than holding
 * `undefined`.
 */
function present<T extends object>(
  fields: T
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(fields).filter(([, field]) => field !== undefined)
  ) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
