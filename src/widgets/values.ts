/**
 * The bytes of the large binary widget values that the doc refers to by their SHA-256: asked
 * of the server once each, checked against their digest, and kept for a while, since
 * several views and followers of a page read the same value.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

import { type IWidgetModelEntry, referencedDigest } from '../doc/schema';
import type { IWidgetValueBackend } from '../server/backends';
import { entryWireState } from './follow';

/**
 * How many values a page keeps: an animation needs only its latest frames.
 */
export const KEPT_VALUES = 32;

export class WidgetValues {
  constructor(backend: IWidgetValueBackend) {
    this._backend = backend;
  }

  /**
   * A doc entry's state in wire form, with every value it names fetched; null when one
   * cannot be had (the server replaced it meanwhile, or the page is offline).
   */
  async wireState(
    documentId: string | null,
    entry: IWidgetModelEntry
  ): Promise<Record<string, unknown> | null> {
    const named: string[] = [];
    for (const buffer of entry.buffers ?? []) {
      if (buffer.encoding === 'ref') {
        const digest = referencedDigest(buffer);
        if (digest === null) {
          return null;
        }
        named.push(digest);
      }
    }
    if (named.length && documentId === null) {
      return null;
    }
    const values = new Map<string, ArrayBuffer>();
    for (const digest of named) {
      const value = await this.value(documentId!, digest);
      if (!value) {
        return null;
      }
      values.set(digest, value);
    }
    return entryWireState(entry, values);
  }

  /**
   * The bytes of one value, or null when the server has none that match the digest.
   */
  value(documentId: string, digest: string): Promise<ArrayBuffer | null> {
    const key = `${documentId}\n${digest}`;
    let value = this._values.get(key);
    if (value) {
      // The most recently used goes last.
      this._values.delete(key);
    } else {
      value = this._fetch(documentId, digest);
      // A failed fetch is not kept: the next reader asks again.
      void value.then(bytes => {
        if (!bytes && this._values.get(key) === value) {
          this._values.delete(key);
        }
      });
    }
    this._values.set(key, value);
    while (this._values.size > KEPT_VALUES) {
      this._values.delete(this._values.keys().next().value as string);
    }
    return value;
  }

  private async _fetch(
    documentId: string,
    digest: string
  ): Promise<ArrayBuffer | null> {
    try {
      const bytes = await this._backend.widgetValue(documentId, digest);
      return bytesToHex(sha256(new Uint8Array(bytes))) === digest
        ? bytes
        : null;
    } catch (error) {
      console.warn(
        'jupyterlab-collab-exec: a widget value is unavailable',
        error
      );
      return null;
    }
  }

  private _backend: IWidgetValueBackend;
  private _values = new Map<string, Promise<ArrayBuffer | null>>();
}
