/**
 * The `collab_exec` root map of a notebook's Y.Doc, mirrored from docs/ydoc-schema.md.
 *
 * jupyterlab_collab_exec/doc/schema.py holds the same names for the server.
 */

export const ROOT = 'collab_exec';
export const KERNEL = 'kernel';
export const REQUESTS = 'requests';
export const INPUTS = 'inputs';
/** Per cell id, the runs that the run history recorded while the room was loaded. */
export const HISTORY = 'history';

export type RequestStatus =
  | 'queued'
  | 'running'
  | 'awaiting_input'
  | 'ok'
  | 'error'
  | 'cancelled'
  | 'interrupted';

export const REQUEST_STATUSES: ReadonlyArray<RequestStatus> = [
  'queued',
  'running',
  'awaiting_input',
  'ok',
  'error',
  'cancelled',
  'interrupted'
];

export const FINAL_STATUSES: ReadonlySet<RequestStatus> = new Set([
  'ok',
  'error',
  'cancelled',
  'interrupted'
]);

export type KernelExecutionState =
  'idle' | 'busy' | 'starting' | 'restarting' | 'dead';

export const KERNEL_EXECUTION_STATES: ReadonlyArray<KernelExecutionState> = [
  'idle',
  'busy',
  'starting',
  'restarting',
  'dead'
];

/**
 * Who submitted a request or answered an input.
 */
export interface IPerson {
  username: string;
  display_name: string;
}

/**
 * One entry of `collab_exec.requests`.
 */
export interface IRequestEntry {
  request_id: string;
  cell_id: string;
  kernel_id: string;
  status: RequestStatus;
  submitted_by: IPerson;
  submitted_at: number;
  started_at?: number;
  finished_at?: number;
  execution_count?: number;
  /**
   * Why the server ended the request without the kernel's normal reply, for people to
   * read ("The kernel died.", "Lost the connection to the kernel: …"); absent for
   * ordinary endings.
   */
  reason?: string;
}

/**
 * `collab_exec.kernel`.
 */
export interface IKernelEntry {
  kernel_id: string;
  execution_state: KernelExecutionState;
}

export type InputStatus = 'pending' | 'answered' | 'cancelled';

export const INPUT_STATUSES: ReadonlyArray<InputStatus> = [
  'pending',
  'answered',
  'cancelled'
];

/**
 * The key of the shared `value` Y.Text of an input entry: what people type, shared as
 * they type it. It stays empty for passwords.
 */
export const INPUT_VALUE = 'value';

/**
 * One entry of `collab_exec.inputs`: a kernel's `input()` or `getpass()` waiting for an
 * answer. The shared `value` Text is read with `CollabExecModel.inputValue`.
 */
export interface IInputEntry {
  input_id: string;
  request_id: string;
  cell_id: string;
  prompt: string;
  password: boolean;
  status: InputStatus;
  answered_by?: IPerson;
  answered_at?: number;
}

/**
 * The `collab_widgets` root map: the ipywidgets models of the notebook's kernel, written by
 * the server from the kernel's comm messages. Clients only read it.
 */
export const WIDGETS_ROOT = 'collab_widgets';
export const WIDGET_MODELS = 'models';
export const KERNEL_SESSION = 'kernel_session';
export const WIDGET_NOTICE = 'notice';
export const WIDGETS_KERNEL_ID = 'kernel_id';

/**
 * A binary value of a widget model's state, at its path in the state: inline in base64,
 * or, when it is large, by a reference that the server resolves (`widget-values`
 * endpoint) and keeps out of the doc's history.
 */
export type IWidgetBuffer = IInlineWidgetBuffer | IReferencedWidgetBuffer;

export interface IInlineWidgetBuffer {
  path: Array<string | number>;
  encoding: 'base64';
  data: string;
}

export interface IReferencedWidgetBuffer {
  path: Array<string | number>;
  encoding: 'ref';
  // `sha256:` and the lowercase hex SHA-256 of the bytes.
  ref: string;
  size: number;
}

/**
 * The scheme of a reference: the bytes are named by their SHA-256.
 */
export const WIDGET_VALUE_REF_SCHEME = 'sha256:';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The digest that a referenced buffer names, or null when its reference is malformed.
 */
export function referencedDigest(
  buffer: IReferencedWidgetBuffer
): string | null {
  const digest = buffer.ref.startsWith(WIDGET_VALUE_REF_SCHEME)
    ? buffer.ref.slice(WIDGET_VALUE_REF_SCHEME.length)
    : '';
  return SHA256_HEX.test(digest) ? digest : null;
}

/**
 * One entry of `collab_widgets.models`.
 */
export interface IWidgetModelEntry {
  model_name: string;
  model_module: string;
  model_module_version: string;
  state: Record<string, unknown>;
  buffers?: IWidgetBuffer[];
  /** False once the comm is closed or the kernel process is gone. */
  live: boolean;
  /** The kernel closed the comm: a view of it renders nothing. */
  closed?: boolean;
  /**
   * The kernel's header date of the last message in the state, in microseconds since the
   * epoch: a browser drops the kernel's updates older than what it took from the doc.
   */
  kernel_time?: number;
}
