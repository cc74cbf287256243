/**
 * The kernel's updates of a model, merged while they come faster than the browser applies
 * them. A loop that sets a slider thousands of times sends thousands of `update` messages
 * to every browser; applying each one re-renders every view of the model (a slider's
 * readout forces a layout each time), so a browser fell seconds behind the kernel and
 * showed values long gone. Here an update that comes within `burstMs` of the last one
 * applied waits for the next task, and the updates that come meanwhile join it: the
 * browser applies the latest state once per batch of messages it received.
 *
 * And once a copy took the doc's state (panelSync.ts), the kernel's updates that are not
 * newer than that state are dropped: the server forwards the kernel's messages to each
 * browser more slowly than its own mirror writes the doc, so without this a copy that
 * followed the doc went back to older values while the stream caught up. The doc's entry
 * says how recent its state is in the kernel's clock (`kernel_time`, the header date of the
 * last message in it); the kernel's messages carry their date.
 *
 * Only plain `update` messages of models whose order against other kernel messages does
 * not matter are merged. Echoes (`echo_update`) keep the manager's echo bookkeeping;
 * updates with binary buffers keep their buffers; an Output widget's `msg_id` must be set
 * before the outputs it captures arrive. Any message that is not merged closes the batch
 * before it, so the model sees every change in the kernel's order.
 */
import type { BufferJSON, Dict, WidgetModel } from '@jupyter-widgets/base';

import { missingInternals, MODEL_COMM_HANDLER } from './internals';

/**
 * Updates within this many milliseconds of the last one applied join a batch.
 */
export const BURST_MS = 16;

/**
 * Models that must take each update before the kernel's next message is handled.
 */
const ORDERED_MODELS = new Set(['OutputModel']);

type KernelCommMsg = Parameters<WidgetModel['_handle_comm_msg']>[0];

interface IBurst {
  lastApplied: number;
  // The batch waiting for the next task, if one waits: its merged state, and the kernel
  // time of its latest message (null when one came without a date: never stale).
  pending: { state: Dict<BufferJSON>; time: number | null } | null;
}

// The kernel time of the latest update from the kernel that each model took or merged.
const received = new WeakMap<WidgetModel, number>();
// The kernel time of the doc state that each model took last.
const followed = new WeakMap<WidgetModel, number>();

/**
 * The kernel time of the latest update from the kernel that this browser has for a model.
 */
export function receivedKernelTime(model: WidgetModel): number | undefined {
  return received.get(model);
}

/**
 * A model took the doc's state of this kernel time: older updates from the kernel are
 * stale from now on.
 */
export function followedDoc(model: WidgetModel, kernelTime: number): void {
  followed.set(model, Math.max(followed.get(model) ?? -Infinity, kernelTime));
}

/**
 * A header date (`2026-12-06T08:10:00.123456Z`) in microseconds since the epoch, as the
 * server reads it; null when it is not one.
 */
export function headerKernelTime(date: unknown): number | null {
  const parts =
    typeof date === 'string'
      ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(
          date
        )
      : null;
  if (!parts) {
    return null;
  }
  const seconds = Date.parse(`${parts[1]}${parts[3] ?? 'Z'}`);
  if (Number.isNaN(seconds)) {
    return null;
  }
  const micros = Number(((parts[2] ?? '') + '000000').slice(0, 6));
  return seconds * 1000 + micros;
}

export interface ICoalesceOptions {
  burstMs?: number;
  now?: () => number;
  // Resolves once the messages that the browser already received were handled.
  nextTask?: () => Promise<void>;
}

const INSTALLED = Symbol('jupyterlab-collab-exec:coalesced');

/**
 * Merge the kernel's bursts of updates for the models of this class and its subclasses.
 * Installing it twice changes nothing.
 */
export function coalesceKernelUpdates(
  modelClass: typeof WidgetModel,
  options: ICoalesceOptions = {}
): void {
  const proto = modelClass.prototype as WidgetModel & {
    [INSTALLED]?: boolean;
  };
  if (proto[INSTALLED]) {
    return;
  }
  const missing = missingInternals({ modelClass });
  if (missing.length) {
    console.warn(
      "jupyterlab-collab-exec: the kernel's updates are applied one by one; this release of the widget models lacks",
      missing
    );
    return;
  }
  proto[INSTALLED] = true;
  const burstMs = options.burstMs ?? BURST_MS;
  const now = options.now ?? (() => performance.now());
  const nextTask = options.nextTask ?? taskAfterQueuedMessages;
  const bursts = new WeakMap<WidgetModel, IBurst>();
  const handle = proto[MODEL_COMM_HANDLER];

  proto[MODEL_COMM_HANDLER] = function (
    this: WidgetModel,
    msg: KernelCommMsg
  ): Promise<void> {
    let burst = bursts.get(this);
    if (!burst) {
      burst = { lastApplied: -Infinity, pending: null };
      bursts.set(this, burst);
    }
    const time = headerKernelTime(msg.header?.date);
    const data = msg.content.data as { method?: unknown };
    if (time !== null && data.method === 'update') {
      if (time <= (followed.get(this) ?? -Infinity)) {
        // The doc's state that this copy took already holds it.
        return Promise.resolve();
      }
      received.set(this, Math.max(received.get(this) ?? -Infinity, time));
    }
    const state = mergeableState(this, msg);
    if (!state) {
      burst.pending = null;
      return handle.call(this, msg);
    }
    if (burst.pending) {
      Object.assign(burst.pending.state, state);
      burst.pending.time =
        time === null || burst.pending.time === null
          ? null
          : Math.max(burst.pending.time, time);
      return Promise.resolve();
    }
    if (now() - burst.lastApplied >= burstMs) {
      burst.lastApplied = now();
      return handle.call(this, msg);
    }
    const pending = { state: { ...state }, time };
    burst.pending = pending;
    const ownBurst = burst;
    const modelType = this.constructor as typeof WidgetModel;
    this.state_change = this.state_change
      .then(nextTask)
      .then(async () => {
        if (ownBurst.pending === pending) {
          ownBurst.pending = null;
        }
        if (
          pending.time !== null &&
          pending.time <= (followed.get(this) ?? -Infinity)
        ) {
          // The copy took a newer state from the doc meanwhile.
          return;
        }
        ownBurst.lastApplied = now();
        this.set_state(
          await modelType._deserialize_state(pending.state, this.widget_manager)
        );
      })
      .catch(reason => {
        console.error(
          `jupyterlab-collab-exec: could not apply the kernel's updates of ${this.model_id}`,
          reason
        );
      });
    // The kernel's next message need not wait: this model's own chain keeps the order.
    return Promise.resolve();
  };
}

/**
 * The state of a plain update that may join a batch, or null.
 */
function mergeableState(
  model: WidgetModel,
  msg: KernelCommMsg
): Dict<BufferJSON> | null {
  const data = msg.content.data as {
    method?: unknown;
    state?: unknown;
    buffer_paths?: unknown[];
  };
  if (
    data.method !== 'update' ||
    (data.buffer_paths?.length ?? 0) > 0 ||
    (msg.buffers?.length ?? 0) > 0 ||
    typeof data.state !== 'object' ||
    data.state === null ||
    ORDERED_MODELS.has(model.get('_model_name'))
  ) {
    return null;
  }
  return data.state as Dict<BufferJSON>;
}

/**
 * A task posted now runs after the messages already queued for the page: a message
 * channel's task, which unlike a timer is not throttled in a hidden tab.
 */
function taskAfterQueuedMessages(): Promise<void> {
  if (typeof MessageChannel !== 'function') {
    return new Promise(resolve => setTimeout(resolve, 0));
  }
  return new Promise(resolve => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
