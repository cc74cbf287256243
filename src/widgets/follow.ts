/**
 * How a browser's copy of a widget model is brought in line with the doc: as the widget
 * manager applies the kernel's updates. The doc holds each value in the model's wire form
 * (the kernel's JSON, binary values as base64 buffers), so the browser's values are
 * serialized with the model class's own serializers before they are compared, and the
 * doc's values that differ pass through the class's own deserializers (a DatePicker's
 * value becomes a `Date` again, a bqplot array its typed array) before the model takes
 * them.
 */
import {
  type Dict,
  type IWidgetManager,
  put_buffers,
  type WidgetModel
} from '@jupyter-widgets/base';
import { JSONExt, type JSONObject } from '@lumino/coreutils';

import { type IWidgetModelEntry, referencedDigest } from '../doc/schema';
import { unechoedKeys } from './internals';

/**
 * The state of a doc entry in wire form, its buffers put back at their paths: inline ones
 * decoded, the others taken from `values` by their digest. Null when one is missing there.
 */
export function entryWireState(
  entry: IWidgetModelEntry,
  values: ReadonlyMap<string, ArrayBuffer> = new Map()
): Record<string, unknown> | null {
  // The doc's state is JSON: a deep copy, so that the entry keeps its own.
  const state = JSONExt.deepCopy(entry.state as JSONObject) as Record<
    string,
    unknown
  >;
  const buffers = entry.buffers ?? [];
  const bytes: DataView[] = [];
  for (const buffer of buffers) {
    const digest = buffer.encoding === 'ref' ? referencedDigest(buffer) : null;
    const data =
      buffer.encoding === 'base64'
        ? base64ToBuffer(buffer.data)
        : digest !== null
          ? values.get(digest)
          : undefined;
    if (!data) {
      return null;
    }
    bytes.push(new DataView(data));
  }
  if (buffers.length) {
    put_buffers(
      state as Parameters<typeof put_buffers>[0],
      buffers.map(buffer => buffer.path),
      bytes
    );
  }
  return state;
}

/**
 * What a model must take to match the doc entry's state in wire form (entryWireState),
 * deserialized as the model's class deserializes the kernel's updates, or null when it
 * matches already. Left out: the protocol's keys, the attributes this browser changed and
 * the kernel has not echoed (they are ahead of the doc), and references to models this
 * manager does not hold.
 */
export async function stateToFollow(
  model: WidgetModel,
  wire: Record<string, unknown>,
  manager: IWidgetManager
): Promise<Dict<unknown> | null> {
  const unechoed = unechoedKeys(model);
  const differs: Dict<unknown> = {};
  for (const [key, value] of Object.entries(wire)) {
    if (
      isProtocolKey(key) ||
      unechoed.has(key) ||
      !referencesHeld(value, manager)
    ) {
      continue;
    }
    if (!wireEqual(serializedValue(model, key), value)) {
      differs[key] = value;
    }
  }
  if (!Object.keys(differs).length) {
    return null;
  }
  const modelClass = model.constructor as typeof WidgetModel;
  return modelClass._deserialize_state(
    differs as Parameters<typeof modelClass._deserialize_state>[0],
    manager
  );
}

/**
 * One attribute of a model in wire form, as the model would send it to the kernel.
 */
export function serializedValue(model: WidgetModel, key: string): unknown {
  const value: unknown = model.get(key);
  const serializers = (model.constructor as typeof WidgetModel).serializers;
  if (!serializers?.[key]?.serialize && containsBinary(value)) {
    // The default serializer copies through JSON, which would lose the bytes.
    return value;
  }
  try {
    return model.serialize({ [key]: value })[key];
  } catch {
    return undefined;
  }
}

/**
 * Whether two values in wire form are the same: JSON values alike, and binary values
 * (ArrayBuffer, DataView or typed array) with the same bytes.
 */
export function wireEqual(left: unknown, right: unknown): boolean {
  const leftBytes = bytesOf(left);
  const rightBytes = bytesOf(right);
  if (leftBytes || rightBytes) {
    return (
      leftBytes !== null &&
      rightBytes !== null &&
      leftBytes.length === rightBytes.length &&
      leftBytes.every((byte, index) => byte === rightBytes[index])
    );
  }
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, index) => wireEqual(item, right[index]))
    );
  }
  if (isRecord(left) && isRecord(right)) {
    const leftKeys = Object.keys(left).filter(key => left[key] !== undefined);
    const rightKeys = Object.keys(right).filter(
      key => right[key] !== undefined
    );
    return (
      leftKeys.length === rightKeys.length &&
      leftKeys.every(key => wireEqual(left[key], right[key]))
    );
  }
  return (left ?? null) === (right ?? null);
}

/**
 * The keys that the widget protocol sets once, when the model is made.
 */
function isProtocolKey(key: string): boolean {
  return key.startsWith('_model_') || key.startsWith('_view_');
}

/**
 * Whether every model that a value refers to (`IPY_MODEL_<id>`) is held by the manager:
 * the deserializers resolve them there, and wait for any that is missing.
 */
function referencesHeld(value: unknown, manager: IWidgetManager): boolean {
  if (typeof value === 'string') {
    return (
      !value.startsWith('IPY_MODEL_') ||
      manager.has_model(value.slice('IPY_MODEL_'.length))
    );
  }
  if (Array.isArray(value)) {
    return value.every(item => referencesHeld(item, manager));
  }
  if (isRecord(value) && bytesOf(value) === null) {
    return Object.values(value).every(item => referencesHeld(item, manager));
  }
  return true;
}

function containsBinary(value: unknown): boolean {
  if (bytesOf(value)) {
    return true;
  }
  if (Array.isArray(value)) {
    return value.some(containsBinary);
  }
  return isRecord(value) && Object.values(value).some(containsBinary);
}

function bytesOf(value: unknown): Uint8Array | null {
  if (value instanceof ArrayBuffer) {
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

/**
 * A plain object, as JSON makes them: not a model, a Date or a typed array.
 */
function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function base64ToBuffer(data: string): ArrayBuffer {
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) {
    bytes[index] = binary.charCodeAt(index);
  }
  return bytes.buffer;
}
