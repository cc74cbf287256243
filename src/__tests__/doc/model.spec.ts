import * as Y from 'yjs';

import { CollabExecModel } from '../../doc/model';
import { parseInput, parseRequest, REASON_MAX_LENGTH } from '../../doc/parse';
import {
  INPUT_STATUSES,
  INPUTS,
  KERNEL,
  REQUEST_STATUSES,
  REQUESTS,
  type RequestStatus,
  ROOT
} from '../../doc/schema';
import {
  childMap,
  drain,
  type EntryFields,
  entryOf,
  syncInto,
  track,
  updateEntry,
  writeEntry,
  writeKernel
} from '../helpers';

function wellFormed(overrides: EntryFields = {}): EntryFields {
  return {
    cell_id: 'cell-1',
    kernel_id: 'kernel-1',
    status: 'queued',
    submitted_by: { username: 'alice', display_name: 'Alice A.' },
    submitted_at: 1000,
    ...overrides
  };
}

function inputFields(overrides: EntryFields = {}): EntryFields {
  return {
    request_id: 'r1',
    cell_id: 'cell-1',
    prompt: 'Name?',
    password: false,
    status: 'pending',
    ...overrides
  };
}

/**
 * Write a request entry into a doc, the way the server does: one Y.Map per request.
 */
function writeRequest(doc: Y.Doc, requestId: string, fields: EntryFields) {
  writeEntry(doc, REQUESTS, requestId, fields);
}

function setStatus(doc: Y.Doc, requestId: string, status: unknown) {
  updateEntry(doc, REQUESTS, requestId, { status });
}

/**
 * Write an input entry the way the server does, with a shared `value` Text, or the
 * `value` given (`null` leaves it out).
 */
function writeInput(
  doc: Y.Doc,
  inputId: string,
  fields: EntryFields,
  value: unknown = new Y.Text()
) {
  writeEntry(doc, INPUTS, inputId, {
    ...fields,
    value: value === null ? undefined : value
  });
}

describe('CollabExecModel', () => {
  let doc: Y.Doc;
  let model: CollabExecModel;

  beforeEach(() => {
    doc = new Y.Doc();
    model = new CollabExecModel(doc);
  });

  afterEach(() => {
    model.dispose();
    doc.destroy();
  });

  describe.each<[string, ReadonlyArray<string>, (status: string) => unknown]>([
    [
      'request',
      REQUEST_STATUSES,
      status => {
        writeRequest(doc, 'r1', wellFormed({ status }));
        return model.request('r1')?.status;
      }
    ],
    [
      'input',
      INPUT_STATUSES,
      status => {
        writeInput(doc, 'i1', inputFields({ status }));
        return model.input('i1')?.status;
      }
    ]
  ])('the status of a %s entry', (_kind, statuses, readBack) => {
    it.each([...statuses])('accepts %s', status => {
      expect(readBack(status)).toBe(status);
    });
  });

  describe('parsing requests', () => {
    it('reads a well-formed entry with every field', () => {
      writeRequest(
        doc,
        'r1',
        wellFormed({
          status: 'ok',
          started_at: 1100,
          finished_at: 1200,
          execution_count: 7
        })
      );
      expect(model.request('r1')).toEqual({
        request_id: 'r1',
        cell_id: 'cell-1',
        kernel_id: 'kernel-1',
        status: 'ok',
        submitted_by: { username: 'alice', display_name: 'Alice A.' },
        submitted_at: 1000,
        started_at: 1100,
        finished_at: 1200,
        execution_count: 7
      });
    });

    it('leaves optional fields out when the server has not written them', () => {
      writeRequest(doc, 'r1', wellFormed());
      const entry = model.request('r1');
      expect(entry).not.toBeNull();
      expect(Object.keys(entry ?? {}).sort()).toEqual([
        'cell_id',
        'kernel_id',
        'request_id',
        'status',
        'submitted_at',
        'submitted_by'
      ]);
    });

    it('falls back to the username when the display name is empty', () => {
      writeRequest(
        doc,
        'r1',
        wellFormed({ submitted_by: { username: 'bob', display_name: '' } })
      );
      expect(model.request('r1')?.submitted_by).toEqual({
        username: 'bob',
        display_name: 'bob'
      });
    });

    it('sanitizes a tampered or missing submitted_by instead of trusting it', () => {
      writeRequest(
        doc,
        'r1',
        wellFormed({ submitted_by: { username: 42, display_name: ['x'] } })
      );
      writeRequest(doc, 'r2', wellFormed({ submitted_by: undefined }));
      writeRequest(doc, 'r3', wellFormed({ submitted_by: 'mallory' }));
      const empty = { username: '', display_name: '' };
      expect(model.request('r1')?.submitted_by).toEqual(empty);
      expect(model.request('r2')?.submitted_by).toEqual(empty);
      expect(model.request('r3')?.submitted_by).toEqual(empty);
    });

    it('drops optional numbers of the wrong type', () => {
      writeRequest(
        doc,
        'r1',
        wellFormed({
          started_at: '1100',
          finished_at: null,
          execution_count: { n: 1 }
        })
      );
      const entry = model.request('r1');
      expect(entry).not.toBeNull();
      expect(entry?.started_at).toBeUndefined();
      expect(entry?.finished_at).toBeUndefined();
      expect(entry?.execution_count).toBeUndefined();
    });

    it('reads the reason the server gives for ending a request', () => {
      writeRequest(
        doc,
        'r1',
        wellFormed({ status: 'interrupted', reason: 'The kernel died.' })
      );
      expect(model.request('r1')?.reason).toBe('The kernel died.');
    });

    it.each<[string, unknown]>([
      ['a number', 42],
      ['an object', { text: 'The kernel died.' }],
      ['an empty string', ''],
      ['blank text', '  \n']
    ])('leaves out a reason that is %s', (_label, reason) => {
      writeRequest(doc, 'r1', wellFormed({ status: 'interrupted', reason }));
      const entry = model.request('r1');
      expect(entry?.status).toBe('interrupted');
      expect(entry && 'reason' in entry).toBe(false);
    });

    it('cuts a long reason, never inside a surrogate pair', () => {
      const long = `Server error: ${'x'.repeat(REASON_MAX_LENGTH)}`;
      writeRequest(
        doc,
        'r1',
        wellFormed({ status: 'cancelled', reason: long })
      );
      const reason = model.request('r1')?.reason ?? '';
      expect(reason).toHaveLength(REASON_MAX_LENGTH);
      expect(reason.endsWith('…')).toBe(true);
      expect(long.startsWith(reason.slice(0, -1))).toBe(true);

      // An emoji whose high surrogate would be the last kept code unit.
      const emoji = `${'y'.repeat(REASON_MAX_LENGTH - 2)}😀 and more`;
      writeRequest(
        doc,
        'r2',
        wellFormed({ status: 'cancelled', reason: emoji })
      );
      const cut = model.request('r2')?.reason ?? '';
      expect(cut).toBe(`${'y'.repeat(REASON_MAX_LENGTH - 2)}…`);
      expect(REASON_MAX_LENGTH).toBe(300);
    });

    it.each<[string, EntryFields]>([
      ['a missing cell_id', { cell_id: undefined }],
      ['a numeric cell_id', { cell_id: 12 }],
      ['a missing kernel_id', { kernel_id: undefined }],
      ['a kernel_id that is an object', { kernel_id: { id: 'k' } }],
      ['a missing status', { status: undefined }],
      ['an unknown status', { status: 'done' }],
      ['a status of the wrong case', { status: 'OK' }],
      ['a missing submitted_at', { submitted_at: undefined }],
      ['a string submitted_at', { submitted_at: '1000' }],
      ['a NaN submitted_at', { submitted_at: NaN }],
      ['an infinite submitted_at', { submitted_at: Infinity }]
    ])('rejects an entry with %s', (_label, overrides) => {
      writeRequest(doc, 'bad', wellFormed(overrides));
      writeRequest(doc, 'good', wellFormed({ submitted_at: 2000 }));
      expect(model.request('bad')).toBeNull();
      expect(model.requests().map(entry => entry.request_id)).toEqual(['good']);
    });

    it('rejects an entry that is not a Y.Map', () => {
      doc.transact(() => {
        childMap(doc, REQUESTS).set('plain', wellFormed());
        childMap(doc, REQUESTS).set('text', 'queued');
      });
      expect(model.request('plain')).toBeNull();
      expect(model.request('text')).toBeNull();
      expect(model.requests()).toEqual([]);
    });

    it('exposes the parser for single values', () => {
      expect(parseRequest('x', null)).toBeNull();
      expect(parseRequest('x', { ...wellFormed() })).toBeNull();
    });

    it('tolerates a requests key that is not a map', () => {
      doc.getMap<unknown>(ROOT).set(REQUESTS, 'tampered');
      expect(model.request('r1')).toBeNull();
      expect(model.requests()).toEqual([]);
      expect(model.latestRequestForCell('cell-1')).toBeNull();
    });

    it('returns nothing for an empty doc', () => {
      expect(model.request('r1')).toBeNull();
      expect(model.requests()).toEqual([]);
      expect(model.kernel).toBeNull();
    });
  });

  describe('requests()', () => {
    it.each<[string, Array<[string, number]>, string[]]>([
      [
        'orders entries by submission time, oldest first',
        [
          ['c', 3000],
          ['a', 1000],
          ['b', 2000]
        ],
        ['a', 'b', 'c']
      ],
      [
        'breaks ties of submission time by request id',
        [
          ['r-b', 1000],
          ['r-c', 500],
          ['r-a', 1000]
        ],
        ['r-c', 'r-a', 'r-b']
      ]
    ])('%s', (_title, written, expected) => {
      for (const [requestId, submittedAt] of written) {
        writeRequest(doc, requestId, wellFormed({ submitted_at: submittedAt }));
      }
      expect(model.requests().map(entry => entry.request_id)).toEqual(expected);
    });
  });

  describe('latestRequestForCell()', () => {
    it('returns the most recently submitted request of the cell', () => {
      writeRequest(
        doc,
        'r2',
        wellFormed({ cell_id: 'cell-1', submitted_at: 2000, status: 'queued' })
      );
      writeRequest(
        doc,
        'r1',
        wellFormed({ cell_id: 'cell-1', submitted_at: 1000, status: 'ok' })
      );
      writeRequest(
        doc,
        'r3',
        wellFormed({ cell_id: 'cell-2', submitted_at: 3000 })
      );
      expect(model.latestRequestForCell('cell-1')?.request_id).toBe('r2');
      expect(model.latestRequestForCell('cell-2')?.request_id).toBe('r3');
      expect(model.latestRequestForCell('cell-3')).toBeNull();
    });

    it('ignores a malformed newer entry', () => {
      writeRequest(doc, 'r1', wellFormed({ submitted_at: 1000 }));
      writeRequest(
        doc,
        'r2',
        wellFormed({ submitted_at: 2000, status: 'hijacked' })
      );
      expect(model.latestRequestForCell('cell-1')?.request_id).toBe('r1');
    });
  });

  describe('kernel', () => {
    it('reads the kernel state', () => {
      writeKernel(doc, { kernel_id: 'kernel-1', execution_state: 'busy' });
      expect(model.kernel).toEqual({
        kernel_id: 'kernel-1',
        execution_state: 'busy'
      });
    });

    it('follows updates of the execution state', () => {
      writeKernel(doc, { kernel_id: 'kernel-1', execution_state: 'busy' });
      const kernel = doc.getMap<unknown>(ROOT).get(KERNEL) as Y.Map<unknown>;
      kernel.set('execution_state', 'idle');
      expect(model.kernel?.execution_state).toBe('idle');
    });

    it.each<[string, EntryFields]>([
      ['an unknown state', { kernel_id: 'k', execution_state: 'sleeping' }],
      ['a missing state', { kernel_id: 'k' }],
      ['a numeric kernel id', { kernel_id: 1, execution_state: 'idle' }],
      ['a missing kernel id', { execution_state: 'idle' }]
    ])('is null for %s', (_label, fields) => {
      writeKernel(doc, fields);
      expect(model.kernel).toBeNull();
    });

    it('is null when the kernel key is not a map', () => {
      doc.getMap<unknown>(ROOT).set(KERNEL, {
        kernel_id: 'k',
        execution_state: 'idle'
      });
      expect(model.kernel).toBeNull();
    });
  });

  describe('changed', () => {
    it('is emitted for changes anywhere under collab_exec', () => {
      let count = 0;
      model.changed.connect(() => {
        count++;
      });
      writeRequest(doc, 'r1', wellFormed());
      expect(count).toBe(1);
      setStatus(doc, 'r1', 'running');
      expect(count).toBe(2);
      writeKernel(doc, { kernel_id: 'k', execution_state: 'busy' });
      expect(count).toBe(3);
    });

    it('is not emitted for changes outside collab_exec', () => {
      let count = 0;
      model.changed.connect(() => {
        count++;
      });
      doc.getMap<unknown>('state').set('dirty', true);
      doc.getArray<unknown>('cells').push(['x']);
      expect(count).toBe(0);
    });

    it('is emitted for updates from a remote peer', () => {
      const remote = new Y.Doc();
      const seen: string[][] = [];
      model.changed.connect(sender => {
        expect(sender).toBe(model);
        seen.push(sender.requests().map(entry => entry.status));
      });

      writeRequest(remote, 'r1', wellFormed());
      syncInto(doc, remote);
      setStatus(remote, 'r1', 'running');
      syncInto(doc, remote);
      writeKernel(remote, { kernel_id: 'kernel-1', execution_state: 'busy' });
      syncInto(doc, remote);

      expect(seen).toEqual([['queued'], ['running'], ['running']]);
      expect(model.kernel).toEqual({
        kernel_id: 'kernel-1',
        execution_state: 'busy'
      });
      remote.destroy();
    });

    it('is not emitted once the model is disposed', () => {
      let count = 0;
      model.changed.connect(() => {
        count++;
      });
      model.dispose();
      writeRequest(doc, 'r1', wellFormed());
      expect(count).toBe(0);
    });
  });

  describe('inputs', () => {
    it('reads a pending entry', () => {
      writeInput(doc, 'i1', inputFields());
      expect(model.input('i1')).toEqual({
        input_id: 'i1',
        request_id: 'r1',
        cell_id: 'cell-1',
        prompt: 'Name?',
        password: false,
        status: 'pending'
      });
      expect(model.inputs()).toEqual([model.input('i1')]);
    });

    it('reads who answered and when', () => {
      writeInput(
        doc,
        'i1',
        inputFields({
          status: 'answered',
          answered_by: { username: 'bob', display_name: 'Bob B.' },
          answered_at: 2000
        })
      );
      expect(model.input('i1')).toMatchObject({
        status: 'answered',
        answered_by: { username: 'bob', display_name: 'Bob B.' },
        answered_at: 2000
      });
    });

    it('sanitizes a tampered answered_by and drops a bad answered_at', () => {
      writeInput(
        doc,
        'i1',
        inputFields({
          status: 'answered',
          answered_by: { username: 7, display_name: '<b>x</b>' },
          answered_at: 'soon'
        })
      );
      writeInput(doc, 'i2', inputFields({ answered_by: 'mallory' }));
      expect(model.input('i1')?.answered_by).toEqual({
        username: '',
        display_name: '<b>x</b>'
      });
      expect(model.input('i1')?.answered_at).toBeUndefined();
      expect(model.input('i2')?.answered_by).toEqual({
        username: '',
        display_name: ''
      });
    });

    it.each<[string, EntryFields]>([
      ['a missing request_id', { request_id: undefined }],
      ['a numeric cell_id', { cell_id: 3 }],
      ['a missing prompt', { prompt: undefined }],
      ['a prompt that is an object', { prompt: { html: '<b>x</b>' } }],
      ['a missing password flag', { password: undefined }],
      ['a password flag that is a string', { password: 'false' }],
      ['an unknown status', { status: 'waiting' }],
      ['a missing status', { status: undefined }]
    ])('rejects an entry with %s', (_label, overrides) => {
      writeInput(doc, 'bad', inputFields(overrides));
      writeInput(doc, 'good', inputFields());
      expect(model.input('bad')).toBeNull();
      expect(model.inputValue('bad')).toBeNull();
      expect(model.inputs().map(entry => entry.input_id)).toEqual(['good']);
    });

    it('rejects entries that are not maps, and an inputs key that is not one', () => {
      childMap(doc, INPUTS).set('plain', inputFields());
      expect(model.input('plain')).toBeNull();
      expect(model.inputs()).toEqual([]);
      doc.getMap<unknown>(ROOT).set(INPUTS, 'tampered');
      expect(model.inputs()).toEqual([]);
      expect(model.input('plain')).toBeNull();
      expect(model.inputValue('plain')).toBeNull();
      expect(model.pendingInputsForCell('cell-1')).toEqual([]);
    });

    it('exposes the parser for single values', () => {
      expect(parseInput('x', null)).toBeNull();
      expect(parseInput('x', { ...inputFields() })).toBeNull();
    });

    it("lists a cell's pending inputs", () => {
      writeInput(doc, 'i1', inputFields({ status: 'answered' }));
      writeInput(doc, 'i2', inputFields());
      writeInput(doc, 'i3', inputFields({ cell_id: 'cell-2' }));
      writeInput(doc, 'i4', inputFields({ status: 'cancelled' }));
      writeInput(doc, 'i5', inputFields({ status: 'bogus' }));
      expect(
        model.pendingInputsForCell('cell-1').map(entry => entry.input_id)
      ).toEqual(['i2']);
      expect(
        model.pendingInputsForCell('cell-2').map(entry => entry.input_id)
      ).toEqual(['i3']);
      expect(model.pendingInputsForCell('cell-3')).toEqual([]);
    });

    it('gives the shared Text of an entry', () => {
      writeInput(doc, 'i1', inputFields());
      const text = model.inputValue('i1');
      expect(text).toBeInstanceOf(Y.Text);
      text?.insert(0, 'typed');
      expect(model.inputValue('i1')?.toString()).toBe('typed');
    });

    it('has no Text for an entry without one, or with a value of another type', () => {
      writeInput(doc, 'none', inputFields(), null);
      writeInput(doc, 'string', inputFields(), 'not a Text');
      writeInput(doc, 'map', inputFields(), new Y.Map());
      expect(model.inputValue('none')).toBeNull();
      expect(model.inputValue('string')).toBeNull();
      expect(model.inputValue('map')).toBeNull();
      expect(model.inputValue('unknown')).toBeNull();
      // The entries themselves are still well formed.
      expect(model.inputs()).toHaveLength(3);
    });

    it('emits changed for typing in a Text from a remote peer', () => {
      const remote = new Y.Doc();
      writeInput(remote, 'i1', inputFields());
      syncInto(doc, remote);
      let count = 0;
      model.changed.connect(() => {
        count++;
      });
      const inputs = remote.getMap<unknown>(ROOT).get(INPUTS) as Y.Map<unknown>;
      const text = (inputs.get('i1') as Y.Map<unknown>).get('value') as Y.Text;
      text.insert(0, 'A');
      syncInto(doc, remote);
      expect(count).toBe(1);
      expect(model.inputValue('i1')?.toString()).toBe('A');
      remote.destroy();
    });
  });

  describe('whenFinished()', () => {
    it('resolves when the status becomes final', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const finished = model.whenFinished('r1');
      const state = track(finished);

      setStatus(doc, 'r1', 'running');
      await drain();
      expect(state.settled).toBe(false);
      setStatus(doc, 'r1', 'awaiting_input');
      await drain();
      expect(state.settled).toBe(false);

      setStatus(doc, 'r1', 'ok');
      await expect(finished).resolves.toBe('ok');
    });

    it.each<RequestStatus>(['ok', 'error', 'cancelled', 'interrupted'])(
      'resolves with the final status %s',
      async status => {
        writeRequest(doc, 'r1', wellFormed({ status: 'running' }));
        const finished = model.whenFinished('r1');
        setStatus(doc, 'r1', status);
        await expect(finished).resolves.toBe(status);
      }
    );

    it('resolves at once when the request is already final', async () => {
      writeRequest(doc, 'r1', wellFormed({ status: 'error' }));
      await expect(model.whenFinished('r1')).resolves.toBe('error');
    });

    it('waits for a request that the doc does not show yet', async () => {
      const finished = model.whenFinished('r1');
      const state = track(finished);
      writeRequest(doc, 'r1', wellFormed({ status: 'queued' }));
      await drain();
      expect(state.settled).toBe(false);
      setStatus(doc, 'r1', 'cancelled');
      await expect(finished).resolves.toBe('cancelled');
    });

    it('ignores a tampered status and other requests', async () => {
      writeRequest(doc, 'r1', wellFormed());
      writeRequest(doc, 'r2', wellFormed({ cell_id: 'cell-2' }));
      const finished = model.whenFinished('r1');
      const state = track(finished);

      setStatus(doc, 'r1', 'finished');
      setStatus(doc, 'r2', 'ok');
      await drain();
      expect(state.settled).toBe(false);

      setStatus(doc, 'r1', 'ok');
      await expect(finished).resolves.toBe('ok');
    });

    it('resolves null when the request is pruned before it is seen to finish', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const finished = model.whenFinished('r1');
      childMap(doc, REQUESTS).delete('r1');
      await expect(finished).resolves.toBeNull();
    });

    it('keeps waiting for a request that has not arrived yet', async () => {
      const finished = model.whenFinished('r9');
      const state = track(finished);
      writeRequest(doc, 'r1', wellFormed());
      await drain();
      expect(state.settled).toBe(false);
      writeRequest(doc, 'r9', wellFormed({ status: 'ok' }));
      await expect(finished).resolves.toBe('ok');
    });

    it('resolves every waiter of the same request', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const first = model.whenFinished('r1');
      const second = model.whenFinished('r1');
      setStatus(doc, 'r1', 'interrupted');
      await expect(Promise.all([first, second])).resolves.toEqual([
        'interrupted',
        'interrupted'
      ]);
    });

    it('resolves when a remote peer finishes the request', async () => {
      const remote = new Y.Doc();
      writeRequest(remote, 'r1', wellFormed());
      syncInto(doc, remote);
      const finished = model.whenFinished('r1');
      const state = track(finished);

      remote.transact(() => {
        const entry = entryOf(remote, REQUESTS, 'r1');
        entry.set('status', 'running');
        entry.set('started_at', 1100);
      });
      syncInto(doc, remote);
      await drain();
      expect(state.settled).toBe(false);
      expect(model.request('r1')?.started_at).toBe(1100);

      remote.transact(() => {
        const entry = entryOf(remote, REQUESTS, 'r1');
        entry.set('status', 'ok');
        entry.set('finished_at', 1200);
        entry.set('execution_count', 3);
      });
      syncInto(doc, remote);
      await expect(finished).resolves.toBe('ok');
      expect(model.request('r1')?.execution_count).toBe(3);
      remote.destroy();
    });

    it('resolves with null when the model is disposed', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const finished = model.whenFinished('r1');
      model.dispose();
      await expect(finished).resolves.toBeNull();
    });

    it('resolves with null when asked after disposal', async () => {
      writeRequest(doc, 'r1', wellFormed());
      model.dispose();
      await expect(model.whenFinished('r1')).resolves.toBeNull();
    });

    it('resolves with null when the signal aborts', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const abort = new AbortController();
      const finished = model.whenFinished('r1', abort.signal);
      const other = model.whenFinished('r1');
      abort.abort();
      await expect(finished).resolves.toBeNull();

      // The aborted waiter is gone; the other one still waits for the doc.
      setStatus(doc, 'r1', 'ok');
      await expect(other).resolves.toBe('ok');
    });

    it('resolves with null when the signal has already aborted', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const abort = new AbortController();
      abort.abort();
      await expect(model.whenFinished('r1', abort.signal)).resolves.toBeNull();
    });

    it('prefers a final status over an aborted signal', async () => {
      writeRequest(doc, 'r1', wellFormed({ status: 'ok' }));
      const abort = new AbortController();
      abort.abort();
      await expect(model.whenFinished('r1', abort.signal)).resolves.toBe('ok');
    });

    it('stops listening to the signal once resolved', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const abort = new AbortController();
      const remove = jest.spyOn(abort.signal, 'removeEventListener');
      const finished = model.whenFinished('r1', abort.signal);
      setStatus(doc, 'r1', 'ok');
      await expect(finished).resolves.toBe('ok');
      expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    });
  });

  describe('lifetime', () => {
    it('is disposed when its doc is destroyed', async () => {
      writeRequest(doc, 'r1', wellFormed());
      const finished = model.whenFinished('r1');
      expect(model.isDisposed).toBe(false);
      doc.destroy();
      expect(model.isDisposed).toBe(true);
      await expect(finished).resolves.toBeNull();
    });

    it('can be disposed twice', () => {
      model.dispose();
      expect(() => model.dispose()).not.toThrow();
      expect(model.isDisposed).toBe(true);
    });

    it('exposes its doc', () => {
      expect(model.ydoc).toBe(doc);
    });
  });
});

describe('CollabExecModel.forDoc', () => {
  it('shares one model per doc', () => {
    const doc = new Y.Doc();
    const other = new Y.Doc();
    const model = CollabExecModel.forDoc(doc);
    expect(CollabExecModel.forDoc(doc)).toBe(model);
    expect(CollabExecModel.forDoc(other)).not.toBe(model);
    expect(CollabExecModel.forDoc(other).ydoc).toBe(other);
    doc.destroy();
    other.destroy();
  });

  it('replaces a disposed model', () => {
    const doc = new Y.Doc();
    const model = CollabExecModel.forDoc(doc);
    model.dispose();
    const next = CollabExecModel.forDoc(doc);
    expect(next).not.toBe(model);
    expect(next.isDisposed).toBe(false);
    doc.destroy();
  });

  it('disposes the shared model when the doc is destroyed', () => {
    const doc = new Y.Doc();
    const model = CollabExecModel.forDoc(doc);
    doc.destroy();
    expect(model.isDisposed).toBe(true);
  });

  it('sees state that existed before the model was created', () => {
    const doc = new Y.Doc();
    writeRequest(doc, 'r1', wellFormed({ status: 'running' }));
    writeKernel(doc, { kernel_id: 'kernel-1', execution_state: 'busy' });
    const model = CollabExecModel.forDoc(doc);
    expect(model.request('r1')?.status).toBe('running');
    expect(model.kernel?.execution_state).toBe('busy');
    doc.destroy();
  });

  it('observes a doc that was filled from a remote peer after creation', async () => {
    const doc = new Y.Doc();
    const model = CollabExecModel.forDoc(doc);
    const finished = model.whenFinished('r1');
    const remote = new Y.Doc();
    writeRequest(remote, 'r1', wellFormed({ status: 'ok' }));
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote));
    await expect(finished).resolves.toBe('ok');
    remote.destroy();
    doc.destroy();
  });
});
