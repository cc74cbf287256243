/**
 * Digests of what a view holds, as the server computes them of what it wrote
 * (jupyterlab_collab_exec/trust/digests.py; docs/security.md defines them): the lowercase
 * hex SHA-256 of a value's RFC 8785 canonical JSON. A value without canonical JSON (NaN)
 * has no digest, and nothing confirms it.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import canonicalize from 'canonicalize';

import type { IWidgetModelEntry } from '../doc/schema';

/**
 * The digest of a JSON value, or null when it has no canonical form.
 */
export function jsonDigest(value: unknown): string | null {
  let canonical: string | undefined;
  try {
    canonical = canonicalize(value);
  } catch {
    return null;
  }
  return canonical === undefined
    ? null
    : bytesToHex(sha256(utf8ToBytes(canonical)));
}

/**
 * The digest of one nbformat output. A stream's text is left out: it renders as text
 * whether its cell is trusted or not.
 */
export function outputDigest(output: Record<string, unknown>): string | null {
  if (output.output_type === 'stream') {
    return jsonDigest({ output_type: 'stream', name: output.name });
  }
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(output)) {
    if (key !== 'transient') {
      kept[key] = value;
    }
  }
  return jsonDigest(kept);
}

/**
 * The digest of one `collab_widgets.models` entry: of its names, the digest of each state
 * value, and each buffer's path, encoding and the digest of its data, ordered by path.
 */
export function widgetEntryDigest(entry: IWidgetModelEntry): string | null {
  const state: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.state)) {
    const digest = jsonDigest(value);
    if (digest === null) {
      return null;
    }
    state[key] = digest;
  }
  const buffers: Array<{ path: unknown; encoding: string; data: string }> = [];
  for (const buffer of entry.buffers ?? []) {
    // What the server digests of a buffer: the base64 text, or the reference and size.
    const data = jsonDigest(
      buffer.encoding === 'ref'
        ? { ref: buffer.ref, size: buffer.size }
        : buffer.data
    );
    if (data === null) {
      return null;
    }
    buffers.push({ path: buffer.path, encoding: buffer.encoding, data });
  }
  buffers.sort((a, b) => {
    const left = canonicalize(a.path) ?? '';
    const right = canonicalize(b.path) ?? '';
    return left < right ? -1 : left > right ? 1 : 0;
  });
  return jsonDigest({
    model_name: entry.model_name,
    model_module: entry.model_module,
    model_module_version: entry.model_module_version,
    state,
    buffers,
    ...(entry.kernel_time !== undefined
      ? { kernel_time: entry.kernel_time }
      : {})
  });
}
