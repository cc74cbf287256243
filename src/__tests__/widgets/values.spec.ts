import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';

import type { IWidgetModelEntry } from '../../doc/schema';
import type { IWidgetValueBackend } from '../../server/backends';
import { KEPT_VALUES, WidgetValues } from '../../widgets/values';

const DOCUMENT = 'json:notebook:abc';

function digestOf(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * The server's side of `widget-values`: the values it keeps, and the requests it got.
 */
class ValueStore implements IWidgetValueBackend {
  values = new Map<string, Uint8Array>();
  asked: string[] = [];

  add(bytes: number[]): string {
    const value = new Uint8Array(bytes);
    const digest = digestOf(value);
    this.values.set(digest, value);
    return digest;
  }

  async widgetValue(documentId: string, digest: string): Promise<ArrayBuffer> {
    this.asked.push(digest);
    const value = documentId === DOCUMENT ? this.values.get(digest) : undefined;
    if (!value) {
      throw new Error(`No widget value ${digest}`);
    }
    return value.slice().buffer;
  }
}

function image(digest: string): IWidgetModelEntry {
  return {
    model_name: 'ImageModel',
    model_module: '@jupyter-widgets/controls',
    model_module_version: '2.0.0',
    state: { format: 'png', value: null },
    buffers: [
      { path: ['value'], encoding: 'ref', ref: `sha256:${digest}`, size: 4 }
    ],
    live: true
  };
}

describe('WidgetValues', () => {
  let store: ValueStore;
  let values: WidgetValues;

  beforeEach(() => {
    store = new ValueStore();
    values = new WidgetValues(store);
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('fetches a value once, for every reader of the page', async () => {
    const digest = store.add([1, 2, 3]);
    const [first, second] = await Promise.all([
      values.wireState(DOCUMENT, image(digest)),
      values.wireState(DOCUMENT, image(digest))
    ]);
    const bytes = (state: Record<string, unknown> | null) => [
      ...new Uint8Array((state?.value as DataView).buffer)
    ];
    expect(bytes(first)).toEqual([1, 2, 3]);
    expect(bytes(second)).toEqual([1, 2, 3]);
    expect(store.asked).toEqual([digest]);
  });

  it('takes no bytes that do not match their digest', async () => {
    const digest = store.add([1, 2, 3]);
    store.values.set(digest, new Uint8Array([6, 6, 6]));
    expect(await values.value(DOCUMENT, digest)).toBeNull();
    expect(await values.wireState(DOCUMENT, image(digest))).toBeNull();
  });

  it('asks again after a failure, and not for a document it cannot name', async () => {
    const digest = digestOf(new Uint8Array([9]));
    expect(await values.value(DOCUMENT, digest)).toBeNull();
    store.add([9]);
    expect(await values.value(DOCUMENT, digest)).not.toBeNull();
    expect(store.asked).toEqual([digest, digest]);
    expect(await values.wireState(null, image(digest))).toBeNull();
  });

  it(`keeps the ${KEPT_VALUES} values used last`, async () => {
    const digests = Array.from({ length: KEPT_VALUES + 1 }, (_, index) =>
      store.add([index])
    );
    for (const digest of digests) {
      await values.value(DOCUMENT, digest);
    }
    store.asked = [];
    // The first was dropped; the last is still there.
    await values.value(DOCUMENT, digests[KEPT_VALUES]);
    await values.value(DOCUMENT, digests[0]);
    expect(store.asked).toEqual([digests[0]]);
  });
});
