import { Notification } from '@jupyterlab/apputils';
import type { Cell } from '@jupyterlab/cells';
import { Notebook, NotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { ServerConnection } from '@jupyterlab/services';
import type { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import * as Y from 'yjs';

import { CollabExecClient, type IInputBackend, type InputAnswer } from '../api';
import {
  CellInputTracker,
  CollabInputWidget,
  diffText,
  type IDeltaOperation,
  INPUT_CLASS,
  InputHistory,
  SharedInputBinding,
  transformPosition
} from '../input';
import { CollabExecModel } from '../model';
import { INPUTS, type IPerson, REQUESTS, ROOT } from '../schema';

const DOCUMENT_ID = 'json:notebook:abc';
const KERNEL_ID = 'kernel-1';
const ALICE: IPerson = { username: 'alice', display_name: 'Alice' };
const BOB: IPerson = { username: 'bob', display_name: 'Bob B.' };
const HTML_PROMPT = '<img src=x onerror=alert(1)>';

/**
 * Let every pending promise callback run.
 */
function drain(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, 0));
}

/**
 * Send what `to` lacks from `from`, as the collaboration websocket would.
 */
function syncInto(to: Y.Doc, from: Y.Doc): void {
  Y.applyUpdate(
    to,
    Y.encodeStateAsUpdate(from, Y.encodeStateVector(to)),
    'remote'
  );
}

/**
 * Bring two docs to the same state.
 */
function exchange(a: Y.Doc, b: Y.Doc): void {
  syncInto(a, b);
  syncInto(b, a);
}

/**
 * Type into an input as the browser would: change its value and caret, then fire
 * `input`.
 */
function typeAt(
  input: HTMLInputElement,
  index: number,
  text: string,
  remove = 0
): void {
  const value = input.value;
  input.value = value.slice(0, index) + text + value.slice(index + remove);
  input.setSelectionRange(index + text.length, index + text.length);
  input.dispatchEvent(new Event('input', { bubbles: true }));
}

function press(
  input: HTMLInputElement,
  key: string,
  modifiers: { ctrlKey?: boolean } = {}
): KeyboardEvent {
  const event = new KeyboardEvent('keydown', {
    key,
    bubbles: true,
    cancelable: true,
    ...modifiers
  });
  input.dispatchEvent(event);
  return event;
}

/**
 * Collect the notifications shown while `action` runs.
 */
async function notificationsDuring(
  action: () => Promise<void>
): Promise<string[]> {
  const messages: string[] = [];
  const onNotification = (_sender: unknown, change: Notification.IChange) => {
    if (change.type === 'added') {
      messages.push(change.notification.message);
    }
  };
  const changed: ISignal<unknown, Notification.IChange> =
    Notification.manager.changed;
  changed.connect(onNotification);
  try {
    await action();
  } finally {
    changed.disconnect(onNotification);
  }
  return messages;
}

/**
 * @jupyter/ydoc builds new cells before they join the doc, and yjs warns about that
 * ("Invalid access", "Not same Y.Doc") once per cell. Silence only those known messages,
 * only while cells are inserted.
 */
function withoutYjsWarnings(insert: () => void): void {
  const original = console.warn;
  const spy = jest.spyOn(console, 'warn').mockImplementation((...args) => {
    const text = args.map(String).join(' ');
    if (
      text.includes('Invalid access: Add Yjs type to a document') ||
      text.includes('Not same Y.Doc')
    ) {
      return;
    }
    original(...args);
  });
  try {
    insert();
  } finally {
    spy.mockRestore();
  }
}

/* ------------------------------------------------------------------------------------
 * The server's side of the room: its own Y.Doc, writing `collab_exec` as the server
 * extension does (inputs.py, lifecycle.py).
 * ---------------------------------------------------------------------------------- */

interface IWrittenInput {
  request_id?: string;
  cell_id: string;
  prompt?: string;
  password?: boolean;
}

class ServerDoc {
  readonly doc = new Y.Doc();

  addRequest(
    requestId: string,
    cellId: string,
    submittedBy: IPerson = ALICE,
    submittedAt = 1000
  ): void {
    this.doc.transact(() => {
      const entry = new Y.Map<unknown>();
      this._child(REQUESTS).set(requestId, entry);
      entry.set('cell_id', cellId);
      entry.set('kernel_id', KERNEL_ID);
      entry.set('status', 'awaiting_input');
      entry.set('submitted_by', submittedBy);
      entry.set('submitted_at', submittedAt);
    });
  }

  addInput(inputId: string, fields: IWrittenInput): void {
    this.doc.transact(() => {
      const entry = new Y.Map<unknown>();
      this._child(INPUTS).set(inputId, entry);
      entry.set('request_id', fields.request_id ?? 'r1');
      entry.set('cell_id', fields.cell_id);
      entry.set('prompt', fields.prompt ?? 'Name?');
      entry.set('password', fields.password ?? false);
      entry.set('value', new Y.Text());
      entry.set('status', 'pending');
    });
  }

  /**
   * What the server does when an answer wins: the value (never a password's) into the
   * Text, and the entry settled.
   */
  answer(inputId: string, value: string | null, by: IPerson = BOB): void {
    this.doc.transact(() => {
      const entry = this.entry(inputId);
      const text = entry.get('value') as Y.Text;
      if (value === null) {
        text.delete(0, text.length);
      } else if (text.toString() !== value) {
        text.delete(0, text.length);
        text.insert(0, value);
      }
      entry.set('status', 'answered');
      entry.set('answered_by', by);
      entry.set('answered_at', 2000);
    });
  }

  cancel(inputId: string): void {
    this.entry(inputId).set('status', 'cancelled');
  }

  entry(inputId: string): Y.Map<unknown> {
    return this._child(INPUTS).get(inputId) as Y.Map<unknown>;
  }

  text(inputId: string): Y.Text {
    return this.entry(inputId).get('value') as Y.Text;
  }

  private _child(name: string): Y.Map<unknown> {
    const root = this.doc.getMap<unknown>(ROOT);
    let child = root.get(name);
    if (!(child instanceof Y.Map)) {
      child = new Y.Map<unknown>();
      root.set(name, child);
    }
    return child as Y.Map<unknown>;
  }
}

/**
 * Stands in for the REST API: records every answer, and answers as told.
 */
class RecordingBackend implements IInputBackend {
  calls: Array<{ documentId: string; inputId: string; value: string }> = [];
  answer: InputAnswer = { ok: true };
  failure: Error | null = null;
  /**
   * When set, answers wait for it.
   */
  gate: Promise<void> | null = null;
  onAnswer: (() => void) | null = null;

  async answerInput(
    documentId: string,
    inputId: string,
    value: string
  ): Promise<InputAnswer> {
    this.calls.push({ documentId, inputId, value });
    this.onAnswer?.();
    if (this.gate) {
      await this.gate;
    }
    if (this.failure) {
      throw this.failure;
    }
    return this.answer;
  }
}

/* ------------------------------------------------------------------------------------
 * Pure logic.
 * ---------------------------------------------------------------------------------- */

describe('diffText', () => {
  it.each<[string, string, ReturnType<typeof diffText>]>([
    ['abc', 'abc', null],
    ['', 'a', { index: 0, remove: 0, insert: 'a' }],
    ['ac', 'abc', { index: 1, remove: 0, insert: 'b' }],
    ['abc', 'ac', { index: 1, remove: 1, insert: '' }],
    [
      'hello world',
      'hello there world',
      { index: 6, remove: 0, insert: 'there ' }
    ],
    ['abcdef', 'abXYef', { index: 2, remove: 2, insert: 'XY' }],
    ['aaa', 'aaaa', { index: 3, remove: 0, insert: 'a' }],
    ['abc', '', { index: 0, remove: 3, insert: '' }]
  ])('turns %p into %p with %p', (before, after, edit) => {
    expect(diffText(before, after)).toEqual(edit);
  });

  it('never splits a surrogate pair', () => {
    // 😀 is \ud83d\ude00 and 😃 is \ud83d\ude03: they share their high surrogate.
    expect(diffText('a😀b', 'a😃b')).toEqual({
      index: 1,
      remove: 2,
      insert: '😃'
    });
    // 🂡 is \ud83c\udca1 and 😡 is \ud83d\ude21: different high, different low.
    expect(diffText('x\ud83c\ude21', 'x\ud83d\ude21')).toEqual({
      index: 1,
      remove: 2,
      insert: '\ud83d\ude21'
    });
  });

  it('applied to the text before, always gives the text after', () => {
    const samples = ['', 'a', 'ab', 'abc', 'aXc', 'ba', 'abab', '😀', 'a😀'];
    for (const before of samples) {
      for (const after of samples) {
        const edit = diffText(before, after);
        const result = edit
          ? before.slice(0, edit.index) +
            edit.insert +
            before.slice(edit.index + edit.remove)
          : before;
        expect(result).toBe(after);
      }
    }
  });
});

describe('transformPosition', () => {
  const cases: Array<[string, number, IDeltaOperation[], boolean, number]> = [
    ['an insert before', 5, [{ retain: 2 }, { insert: 'xyz' }], false, 8],
    ['an insert after', 1, [{ retain: 2 }, { insert: 'xyz' }], false, 1],
    [
      'an insert at, caret stays',
      2,
      [{ retain: 2 }, { insert: 'x' }],
      false,
      2
    ],
    [
      'an insert at, sticking right',
      2,
      [{ retain: 2 }, { insert: 'x' }],
      true,
      3
    ],
    ['a delete before', 5, [{ delete: 2 }], false, 3],
    ['a delete around', 3, [{ retain: 1 }, { delete: 4 }], false, 1],
    ['a delete after', 1, [{ retain: 2 }, { delete: 4 }], false, 1],
    [
      'a replacement before',
      6,
      [{ retain: 1 }, { delete: 2 }, { insert: 'abcd' }],
      false,
      8
    ],
    ['an insert at the start', 0, [{ insert: 'ab' }], false, 0],
    ['an embed counts as one', 3, [{ insert: { image: 'x' } }], false, 4]
  ];
  it.each(cases)('follows %s', (_label, position, delta, stick, expected) => {
    expect(transformPosition(position, delta, stick)).toBe(expected);
  });
});

describe('InputHistory', () => {
  it('keeps answers newest last, without empty ones or repeats', () => {
    const history = new InputHistory(3);
    for (const line of ['a', '', 'b', 'b', 'c', 'd']) {
      history.push(line);
    }
    expect(history.lines).toEqual(['b', 'c', 'd']);
    expect(history.at(-1)).toBe('d');
    expect(history.at(-3)).toBe('b');
    expect(history.at(-4)).toBeUndefined();
    expect(history.at(0)).toBeUndefined();
  });

  it('searches by prefix, both ways', () => {
    const history = new InputHistory();
    for (const line of ['apple', 'banana', 'apricot', 'cherry']) {
      history.push(line);
    }
    expect(history.search('ap', 0, true)).toBe(-2);
    expect(history.search('ap', -2, true)).toBe(-4);
    expect(history.search('ap', -4, true)).toBeUndefined();
    expect(history.search('ap', -4, false)).toBe(-2);
    expect(history.search('ap', -2, false)).toBeUndefined();
    // A prefix, not a substring.
    expect(history.search('an', 0, true)).toBeUndefined();
  });
});

/* ------------------------------------------------------------------------------------
 * The binding.
 * ---------------------------------------------------------------------------------- */

describe('SharedInputBinding', () => {
  let server: ServerDoc;
  let docA: Y.Doc;
  let docB: Y.Doc;
  let inputA: HTMLInputElement;
  let inputB: HTMLInputElement;
  let bindingA: SharedInputBinding;
  let bindingB: SharedInputBinding;

  function textOf(doc: Y.Doc): Y.Text {
    const inputs = doc.getMap<unknown>(ROOT).get(INPUTS) as Y.Map<unknown>;
    return (inputs.get('i1') as Y.Map<unknown>).get('value') as Y.Text;
  }

  beforeEach(() => {
    server = new ServerDoc();
    server.addInput('i1', { cell_id: 'c1' });
    docA = new Y.Doc();
    docB = new Y.Doc();
    syncInto(docA, server.doc);
    syncInto(docB, server.doc);
    inputA = document.createElement('input');
    inputB = document.createElement('input');
    document.body.append(inputA, inputB);
    bindingA = new SharedInputBinding(inputA, textOf(docA));
    bindingB = new SharedInputBinding(inputB, textOf(docB));
  });

  afterEach(() => {
    bindingA.dispose();
    bindingB.dispose();
    inputA.remove();
    inputB.remove();
  });

  it('applies local typing to the Text as minimal edits, in one transaction', () => {
    typeAt(inputA, 0, 'hello world');
    const deltas: unknown[] = [];
    let transactions = 0;
    textOf(docA).observe(event => {
      deltas.push(event.delta);
    });
    docA.on('afterTransaction', (transaction: Y.Transaction) => {
      // Y.Text follows a change with an empty clean-up transaction of its own.
      if (transaction.changed.size > 0) {
        transactions++;
      }
    });
    typeAt(inputA, 6, 'there ');
    expect(textOf(docA).toString()).toBe('hello there world');
    expect(deltas).toEqual([[{ retain: 6 }, { insert: 'there ' }]]);
    // Replacing a selection: one delete and one insert, in one transaction.
    typeAt(inputA, 0, 'HE', 2);
    expect(deltas[1]).toEqual([{ delete: 2 }, { insert: 'HE' }]);
    expect(transactions).toBe(2);
    expect(textOf(docA).toString()).toBe('HEllo there world');
  });

  it('shows remote edits and keeps the caret in place', () => {
    typeAt(inputA, 0, 'world');
    exchange(docA, docB);
    expect(inputB.value).toBe('world');

    inputA.focus();
    inputA.setSelectionRange(3, 3);
    // B types before A's caret, and after it.
    typeAt(inputB, 0, 'hello ');
    typeAt(inputB, inputB.value.length, '!');
    exchange(docA, docB);
    expect(inputA.value).toBe('hello world!');
    expect(inputA.selectionStart).toBe(9);
    expect(inputA.selectionEnd).toBe(9);

    // A selection keeps covering the same characters when B deletes before it.
    inputA.setSelectionRange(6, 11);
    expect(inputA.value.slice(6, 11)).toBe('world');
    typeAt(inputB, 0, '', 6);
    exchange(docA, docB);
    expect(inputA.value).toBe('world!');
    expect(inputA.selectionStart).toBe(0);
    expect(inputA.selectionEnd).toBe(5);
  });

  it('merges concurrent typing in both boxes', () => {
    typeAt(inputA, 0, 'ac');
    exchange(docA, docB);
    // Offline from each other: A types in the middle, B at the end.
    typeAt(inputA, 1, 'b');
    typeAt(inputB, 2, 'de');
    expect(inputA.value).toBe('abc');
    expect(inputB.value).toBe('acde');
    exchange(docA, docB);
    expect(inputA.value).toBe('abcde');
    expect(inputB.value).toBe('abcde');
    exchange(server.doc, docA);
    expect(server.text('i1').toString()).toBe('abcde');
  });

  it('shares values set from code once synced', () => {
    inputA.value = 'from history';
    bindingA.syncFromInput();
    exchange(docA, docB);
    expect(inputB.value).toBe('from history');
  });

  it('stops following both sides once disposed', () => {
    bindingA.dispose();
    typeAt(inputA, 0, 'local');
    expect(textOf(docA).toString()).toBe('');
    typeAt(inputB, 0, 'remote');
    exchange(docA, docB);
    expect(inputA.value).toBe('local');
  });
});

/* ------------------------------------------------------------------------------------
 * The widget.
 * ---------------------------------------------------------------------------------- */

describe('CollabInputWidget', () => {
  let server: ServerDoc;
  let doc: Y.Doc;
  let model: CollabExecModel;
  let backend: RecordingBackend;
  let history: InputHistory;
  let widget: CollabInputWidget;

  beforeEach(() => {
    server = new ServerDoc();
    server.addRequest('r1', 'c1');
    doc = new Y.Doc();
    model = new CollabExecModel(doc);
    backend = new RecordingBackend();
    history = new InputHistory();
  });

  afterEach(() => {
    if (widget?.isAttached) {
      Widget.detach(widget);
    }
    widget?.dispose();
    model.dispose();
    Notification.manager.dismiss();
  });

  function create(
    inputId = 'i1',
    fields: IWrittenInput = { cell_id: 'c1' }
  ): CollabInputWidget {
    server.addInput(inputId, fields);
    syncInto(doc, server.doc);
    const entry = model.input(inputId);
    if (!entry) {
      throw new Error('no entry');
    }
    widget = new CollabInputWidget({
      model,
      entry,
      backend,
      documentId: () => DOCUMENT_ID,
      history
    });
    Widget.attach(widget, document.body);
    return widget;
  }

  function label(): HTMLLabelElement {
    return widget.node.querySelector('label') as HTMLLabelElement;
  }

  function note(): HTMLElement {
    return widget.node.querySelector('.jp-CollabExec-inputNote') as HTMLElement;
  }

  it('renders the prompt as text, tied to the box by a label', () => {
    create('i1', { cell_id: 'c1', prompt: HTML_PROMPT });
    expect(label().textContent).toBe(HTML_PROMPT);
    expect(widget.node.querySelector('img')).toBeNull();
    expect(label().children).toHaveLength(0);
    expect(label().htmlFor).toBe(widget.inputNode.id);
    expect(widget.inputNode.id).not.toBe('');
    expect(widget.inputNode.type).toBe('text');
    expect(widget.node.dataset.inputId).toBe('i1');
  });

  it('binds the box to the shared Text and restores what is already typed', () => {
    server.addInput('i1', { cell_id: 'c1' });
    server.text('i1').insert(0, 'typed before the reload');
    create('i2', { cell_id: 'c1' });
    widget.dispose();
    // A fresh widget over a doc that already holds text: what a reload does.
    const entry = model.input('i1');
    widget = new CollabInputWidget({
      model,
      entry: entry!,
      backend,
      documentId: () => DOCUMENT_ID,
      history
    });
    expect(widget.inputNode.value).toBe('typed before the reload');
    expect(widget.sharedText).toBe(model.inputValue('i1'));
    typeAt(widget.inputNode, 0, '> ');
    exchange(server.doc, doc);
    expect(server.text('i1').toString()).toBe('> typed before the reload');
  });

  it('keeps a password local and says that one is awaited', () => {
    create('i1', { cell_id: 'c1', prompt: 'Password:', password: true });
    expect(widget.inputNode.type).toBe('password');
    expect(widget.sharedText).toBeNull();
    expect(note().hidden).toBe(false);
    expect(note().textContent).toMatch(/A password is awaited/);
    typeAt(widget.inputNode, 0, 's3cret');
    exchange(server.doc, doc);
    expect(model.inputValue('i1')?.toString()).toBe('');
    expect(server.text('i1').toString()).toBe('');
    expect(Y.encodeStateAsUpdate(doc).toString()).toBe(
      Y.encodeStateAsUpdate(server.doc).toString()
    );
    // Text that someone writes into a password's Text is not shown.
    server.text('i1').insert(0, 'leak?');
    syncInto(doc, server.doc);
    expect(widget.inputNode.value).toBe('s3cret');
  });

  it('stays a password box when someone flips the flag in the doc', () => {
    create('i1', { cell_id: 'c1', password: true });
    typeAt(widget.inputNode, 0, 'secret');
    server.entry('i1').set('password', false);
    syncInto(doc, server.doc);
    expect(widget.password).toBe(true);
    expect(widget.inputNode.type).toBe('password');
    typeAt(widget.inputNode, 6, '!');
    expect(model.inputValue('i1')?.toString()).toBe('');
  });

  it('turns into a password box when the doc says it is one', () => {
    create('i1', { cell_id: 'c1' });
    typeAt(widget.inputNode, 0, 'abc');
    server.entry('i1').set('password', true);
    exchange(server.doc, doc);
    expect(widget.password).toBe(true);
    expect(widget.inputNode.type).toBe('password');
    expect(widget.inputNode.value).toBe('');
    typeAt(widget.inputNode, 0, 'x');
    expect(model.inputValue('i1')?.toString()).toBe('abc');
  });

  it('posts the value shown on Enter, disabled while posting', async () => {
    create();
    typeAt(widget.inputNode, 0, 'Ada');
    exchange(server.doc, doc);
    // Someone else typed too: the merged text is what is shown, and what is sent.
    server.text('i1').insert(0, 'Lady ');
    exchange(server.doc, doc);
    expect(widget.inputNode.value).toBe('Lady Ada');
    let resolveGate: () => void = () => undefined;
    backend.gate = new Promise<void>(resolve => {
      resolveGate = resolve;
    });
    const event = press(widget.inputNode, 'Enter');
    expect(event.defaultPrevented).toBe(true);
    expect(backend.calls).toEqual([
      { documentId: DOCUMENT_ID, inputId: 'i1', value: 'Lady Ada' }
    ]);
    expect(widget.phase).toBe('posting');
    expect(widget.inputNode.disabled).toBe(true);
    // A second Enter while posting sends nothing.
    press(widget.inputNode, 'Enter');
    expect(backend.calls).toHaveLength(1);
    resolveGate();
    await drain();
    expect(widget.phase).toBe('submitted');
    expect(widget.inputNode.disabled).toBe(true);
    expect(history.lines).toEqual(['Lady Ada']);
  });

  it('keeps the notebook from seeing keys typed in the box', () => {
    create();
    const seen: string[] = [];
    const listener = (event: KeyboardEvent) => {
      seen.push(event.key);
    };
    document.body.addEventListener('keydown', listener);
    press(widget.inputNode, 'a');
    press(widget.inputNode, 'Enter');
    document.body.removeEventListener('keydown', listener);
    expect(seen).toEqual([]);
  });

  it('replaces the box with who answered on a conflict', async () => {
    create();
    typeAt(widget.inputNode, 0, 'mine');
    backend.answer = {
      ok: false,
      status: 'answered',
      answeredBy: BOB,
      message: 'This input was already answered.'
    };
    await widget.submit();
    expect(widget.phase).toBe('conflict');
    const line = widget.node.querySelector(
      '.jp-CollabExec-inputLine'
    ) as HTMLElement;
    expect(line.hidden).toBe(true);
    expect(note().hidden).toBe(false);
    expect(note().textContent).toBe('Answered by Bob B.');
    expect(note().getAttribute('role')).toBe('status');
    // The note no longer follows the shared Text.
    expect(widget.sharedText).toBeNull();
  });

  it('names who answered from the doc when the conflict does not', async () => {
    create();
    server.answer('i1', 'theirs', BOB);
    syncInto(doc, server.doc);
    backend.answer = {
      ok: false,
      status: 'answered',
      answeredBy: null,
      message: 'This input was already answered.'
    };
    await widget.submit();
    expect(note().textContent).toBe('Answered by Bob B.');
  });

  it('says when the input was cancelled', async () => {
    create();
    backend.answer = {
      ok: false,
      status: 'cancelled',
      answeredBy: null,
      message: 'This input was cancelled.'
    };
    await widget.submit();
    expect(note().textContent).toBe('Input cancelled');
  });

  it('keeps the box and notifies on other errors', async () => {
    create();
    typeAt(widget.inputNode, 0, 'retry me');
    widget.inputNode.focus();
    backend.failure = new Error('Unknown input');
    const messages = await notificationsDuring(() => widget.submit());
    expect(messages).toEqual(['Could not answer the input: Unknown input']);
    expect(widget.phase).toBe('editing');
    expect(widget.inputNode.disabled).toBe(false);
    expect(widget.inputNode.value).toBe('retry me');
    expect(document.activeElement).toBe(widget.inputNode);
    // It can be sent again.
    backend.failure = null;
    await widget.submit();
    expect(backend.calls.map(call => call.value)).toEqual([
      'retry me',
      'retry me'
    ]);
    expect(widget.phase).toBe('submitted');
  });

  it('does not post without a room id', async () => {
    server.addInput('i1', { cell_id: 'c1' });
    syncInto(doc, server.doc);
    widget = new CollabInputWidget({
      model,
      entry: model.input('i1')!,
      backend,
      documentId: () => null,
      history
    });
    const messages = await notificationsDuring(() => widget.submit());
    expect(backend.calls).toEqual([]);
    expect(messages).toHaveLength(1);
    expect(widget.phase).toBe('editing');
  });

  it('posts a password and keeps it out of the history', async () => {
    create('i1', { cell_id: 'c1', password: true });
    typeAt(widget.inputNode, 0, 'hunter2');
    press(widget.inputNode, 'Enter');
    await drain();
    expect(backend.calls.map(call => call.value)).toEqual(['hunter2']);
    expect(history.lines).toEqual([]);
    expect(widget.inputNode.value).toBe('');
  });

  describe('history keys', () => {
    beforeEach(() => {
      for (const line of ['apple', 'banana', 'apricot']) {
        history.push(line);
      }
    });

    it('↑ and ↓ recall previous answers, and ↓ comes back to the text typed', () => {
      create();
      const input = widget.inputNode;
      typeAt(input, 0, 'draft');
      expect(press(input, 'ArrowUp').defaultPrevented).toBe(true);
      expect(input.value).toBe('apricot');
      expect(input.selectionStart).toBe(7);
      press(input, 'ArrowUp');
      expect(input.value).toBe('banana');
      press(input, 'ArrowUp');
      press(input, 'ArrowUp');
      expect(input.value).toBe('apple');
      press(input, 'ArrowDown');
      expect(input.value).toBe('banana');
      press(input, 'ArrowDown');
      press(input, 'ArrowDown');
      expect(input.value).toBe('draft');
      expect(press(input, 'ArrowDown').defaultPrevented).toBe(false);
      expect(input.value).toBe('draft');
    });

    it('shares a recalled answer with the others', () => {
      create();
      press(widget.inputNode, 'ArrowUp');
      exchange(server.doc, doc);
      expect(server.text('i1').toString()).toBe('apricot');
    });

    it('Ctrl+↑ and Ctrl+↓ search the history by the text typed as prefix', () => {
      create();
      const input = widget.inputNode;
      typeAt(input, 0, 'ap');
      press(input, 'ArrowUp', { ctrlKey: true });
      expect(input.value).toBe('apricot');
      press(input, 'ArrowUp', { ctrlKey: true });
      expect(input.value).toBe('apple');
      // No older match: nothing changes.
      press(input, 'ArrowUp', { ctrlKey: true });
      expect(input.value).toBe('apple');
      press(input, 'ArrowDown', { ctrlKey: true });
      expect(input.value).toBe('apricot');
      // Plain ↓ past the newest comes back to the prefix typed.
      press(input, 'ArrowDown');
      expect(input.value).toBe('ap');
    });

    it('are off in a password box', () => {
      create('i1', { cell_id: 'c1', password: true });
      press(widget.inputNode, 'ArrowUp');
      expect(widget.inputNode.value).toBe('');
      press(widget.inputNode, 'ArrowUp', { ctrlKey: true });
      expect(widget.inputNode.value).toBe('');
    });

    it('remember answers across widgets of the session', async () => {
      create();
      typeAt(widget.inputNode, 0, 'durian');
      await widget.submit();
      widget.dispose();
      create('i2', { cell_id: 'c1' });
      press(widget.inputNode, 'ArrowUp');
      expect(widget.inputNode.value).toBe('durian');
    });
  });
});

/* ------------------------------------------------------------------------------------
 * The tracker, in notebook views.
 * ---------------------------------------------------------------------------------- */

/**
 * A collaborative notebook model with code cells (and a raw cell at the end).
 */
function createModel(sources: string[]): NotebookModel {
  const model = new NotebookModel({ collaborationEnabled: true });
  withoutYjsWarnings(() => {
    model.sharedModel.insertCells(0, [
      ...sources.map(source => ({ cell_type: 'code' as const, source })),
      { cell_type: 'raw' as const, source: 'notes' }
    ]);
  });
  return model;
}

function ydocOf(model: NotebookModel): Y.Doc {
  return (model.sharedModel as unknown as { ydoc: Y.Doc }).ydoc;
}

function cellId(cell: Cell): string {
  return cell.model.sharedModel.getId();
}

describe('CellInputTracker', () => {
  let model: NotebookModel;
  let notebook: Notebook;
  let server: ServerDoc;
  let backend: RecordingBackend;
  let history: InputHistory;
  let trackers: CellInputTracker[];
  let views: Notebook[];
  let username: string | null;
  let current: boolean;

  beforeEach(() => {
    model = createModel(['name = input("Name?")', 'b = 2']);
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    notebook = NBTestUtils.createNotebook();
    notebook.model = model;
    server = new ServerDoc();
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
    backend = new RecordingBackend();
    history = new InputHistory();
    trackers = [];
    views = [notebook];
    username = null;
    current = true;
  });

  afterEach(() => {
    for (const tracker of trackers) {
      tracker.dispose();
    }
    for (const view of views) {
      if (view.isAttached) {
        Widget.detach(view);
      }
      view.dispose();
    }
    model.dispose();
    Notification.manager.dismiss();
  });

  function track(view: Notebook = notebook): CellInputTracker {
    const tracker = new CellInputTracker({
      notebook: view,
      backend,
      history,
      username: () => username,
      isCurrent: () => current
    });
    trackers.push(tracker);
    return tracker;
  }

  /**
   * Another view of the same notebook model, as "New View for Notebook" opens.
   */
  function secondView(): Notebook {
    const view = NBTestUtils.createNotebook();
    view.model = model;
    views.push(view);
    return view;
  }

  function sync(): void {
    exchange(server.doc, ydocOf(model));
  }

  function ask(
    inputId = 'i1',
    fields: Partial<IWrittenInput> = {},
    submittedBy: IPerson = ALICE
  ): void {
    const cell = fields.cell_id ?? cellId(notebook.widgets[0]);
    const requestId = fields.request_id ?? `request-of-${inputId}`;
    server.addRequest(requestId, cell, submittedBy);
    server.addInput(inputId, {
      ...fields,
      cell_id: cell,
      request_id: requestId
    });
    sync();
  }

  function boxes(view: Notebook = notebook): HTMLElement[] {
    return Array.from(
      view.node.querySelectorAll<HTMLElement>(`.${INPUT_CLASS}`)
    );
  }

  it('puts a box right below the outputs of the cell that waits', () => {
    const tracker = track();
    expect(boxes()).toEqual([]);
    ask('i1', { prompt: 'Name?' });
    const widget = tracker.widgetFor('i1');
    const cell = notebook.widgets[0];
    expect(widget?.parent).toBe(cell);
    const children = Array.from(cell.node.children);
    const position = children.indexOf(widget!.node);
    expect(children[position - 1].classList).toContain('jp-Cell-outputWrapper');
    expect(boxes()).toHaveLength(1);
    expect(boxes()[0].querySelector('label')?.textContent).toBe('Name?');
    // Other cells have none.
    expect(
      notebook.widgets[1].node.querySelector(`.${INPUT_CLASS}`)
    ).toBeNull();
  });

  it('renders an HTML prompt as inert text', () => {
    track();
    ask('i1', { prompt: HTML_PROMPT });
    const box = boxes()[0];
    expect(box.querySelector('label')?.textContent).toBe(HTML_PROMPT);
    expect(box.querySelector('img')).toBeNull();
    expect(notebook.node.querySelector('img')).toBeNull();
  });

  it('survives the outputs being rendered again', () => {
    const tracker = track();
    ask();
    const widget = tracker.widgetFor('i1');
    const cell = notebook.widgets[0];
    // The server echoes and prints while the box is there (a second input(), say).
    cell.model.sharedModel.transact(() => {
      (
        cell.model as unknown as {
          outputs: { add: (output: unknown) => void; clear: () => void };
        }
      ).outputs.add({
        output_type: 'stream',
        name: 'stdout',
        text: 'hello\n'
      });
    });
    expect(cell.node.querySelector('.jp-OutputArea-output')).not.toBeNull();
    expect(widget?.isDisposed).toBe(false);
    expect(widget?.parent).toBe(cell);
  });

  it('shows the box in every view, bound to the same Text', () => {
    const first = track();
    const other = secondView();
    const second = track(other);
    ask();
    const a = first.widgetFor('i1')!;
    const b = second.widgetFor('i1')!;
    expect(a).not.toBe(b);
    typeAt(a.inputNode, 0, 'from A');
    expect(b.inputNode.value).toBe('from A');
    typeAt(b.inputNode, 6, ' and B');
    expect(a.inputNode.value).toBe('from A and B');
    sync();
    expect(server.text('i1').toString()).toBe('from A and B');
  });

  it('removes the box in every view when the input is answered', () => {
    const first = track();
    const second = track(secondView());
    ask();
    const widgets = [first.widgetFor('i1')!, second.widgetFor('i1')!];
    server.answer('i1', 'Bob', BOB);
    sync();
    expect(widgets.every(widget => widget.isDisposed)).toBe(true);
    expect(first.widgetFor('i1')).toBeNull();
    expect(boxes()).toEqual([]);
    expect(boxes(views[1])).toEqual([]);
  });

  it('removes the box when the input is cancelled', () => {
    const tracker = track();
    ask();
    const widget = tracker.widgetFor('i1')!;
    server.cancel('i1');
    sync();
    expect(widget.isDisposed).toBe(true);
    expect(boxes()).toEqual([]);
  });

  it('waits for the doc after a successful answer', async () => {
    const tracker = track();
    ask();
    const widget = tracker.widgetFor('i1')!;
    typeAt(widget.inputNode, 0, 'Ada');
    press(widget.inputNode, 'Enter');
    await drain();
    expect(backend.calls).toEqual([
      { documentId: DOCUMENT_ID, inputId: 'i1', value: 'Ada' }
    ]);
    expect(widget.isDisposed).toBe(false);
    expect(widget.phase).toBe('submitted');
    server.answer('i1', 'Ada', ALICE);
    sync();
    expect(widget.isDisposed).toBe(true);
  });

  it('drops the box once the answer returns when the doc was quicker', async () => {
    const tracker = track();
    ask();
    const widget = tracker.widgetFor('i1')!;
    backend.onAnswer = () => {
      server.answer('i1', '', ALICE);
      sync();
    };
    await widget.submit();
    expect(widget.isDisposed).toBe(true);
  });

  it('shows who answered first to the one who lost, until the cell runs again', async () => {
    const first = track();
    const second = track(secondView());
    ask();
    const loser = first.widgetFor('i1')!;
    const bystander = second.widgetFor('i1')!;
    // The server took Bob's answer; the doc tells every view while A's answer is on
    // its way.
    backend.answer = {
      ok: false,
      status: 'answered',
      answeredBy: BOB,
      message: 'This input was already answered.'
    };
    backend.onAnswer = () => {
      server.answer('i1', 'Bob', BOB);
      sync();
    };
    await loser.submit();
    expect(bystander.isDisposed).toBe(true);
    expect(loser.isDisposed).toBe(false);
    expect(loser.node.textContent).toContain('Answered by Bob B.');
    expect(
      (loser.node.querySelector('.jp-CollabExec-inputLine') as HTMLElement)
        .hidden
    ).toBe(true);
    // The cell runs again: the note goes.
    server.addRequest('rerun', cellId(notebook.widgets[0]), ALICE, 5000);
    sync();
    expect(loser.isDisposed).toBe(true);
    expect(boxes()).toEqual([]);
  });

  it('restores a pending input with its text in a view opened later', () => {
    track();
    ask();
    typeAt(boxes()[0].querySelector('input')!, 0, 'half-typed');
    // A reload: a fresh model filled from the room, and a fresh view.
    const later = new NotebookModel({ collaborationEnabled: true });
    Y.applyUpdate(
      ydocOf(later),
      Y.encodeStateAsUpdate(ydocOf(model)),
      'remote'
    );
    const view = NBTestUtils.createNotebook();
    view.model = later;
    views.push(view);
    const tracker = track(view);
    const widget = tracker.widgetFor('i1');
    expect(widget?.inputNode.value).toBe('half-typed');
    expect(widget?.parent).toBe(view.widgets[0]);
    later.dispose();
  });

  it('shows a pending password to everyone, without its characters', () => {
    const first = track();
    const second = track(secondView());
    ask('i1', { prompt: 'Password:', password: true });
    const a = first.widgetFor('i1')!;
    const b = second.widgetFor('i1')!;
    typeAt(a.inputNode, 0, 'hunter2');
    sync();
    expect(b.inputNode.value).toBe('');
    expect(b.node.textContent).toContain('A password is awaited');
    expect(b.node.textContent).not.toContain('hunter2');
    expect(server.text('i1').toString()).toBe('');
  });

  it('ignores malformed entries', () => {
    const tracker = track();
    ask('i1');
    server.entry('i1').set('status', 'waiting');
    sync();
    expect(tracker.widgets).toEqual([]);
    server.entry('i1').set('status', 'pending');
    server.entry('i1').set('prompt', { html: '<b>x</b>' });
    sync();
    expect(tracker.widgets).toEqual([]);
  });

  it('follows an input whose cell is moved, and drops it with its cell', () => {
    const tracker = track();
    ask();
    const id = cellId(notebook.widgets[0]);
    withoutYjsWarnings(() => {
      model.sharedModel.moveCell(0, 1);
    });
    const moved = notebook.widgets.findIndex(cell => cellId(cell) === id);
    expect(moved).toBe(1);
    expect(tracker.widgetFor('i1')?.parent).toBe(notebook.widgets[1]);
    model.sharedModel.deleteCell(1);
    expect(tracker.widgetFor('i1')).toBeNull();
    expect(boxes()).toEqual([]);
  });

  it('keeps several pending inputs of a cell in order', () => {
    const tracker = track();
    ask('i1', { prompt: 'First?' });
    ask('i2', { prompt: 'Second?' });
    const labels = boxes().map(box => box.querySelector('label')?.textContent);
    expect(labels).toEqual(['First?', 'Second?']);
    expect(tracker.widgets).toHaveLength(2);
  });

  describe('focus', () => {
    beforeEach(() => {
      Widget.attach(notebook, document.body);
    });

    it('goes to the box of the person who ran the cell, in the current notebook', () => {
      username = 'alice';
      const tracker = track();
      ask('i1', {}, ALICE);
      expect(document.activeElement).toBe(tracker.widgetFor('i1')?.inputNode);
    });

    it('is never taken from someone else', () => {
      username = 'bob';
      const tracker = track();
      const outside = document.createElement('input');
      document.body.append(outside);
      outside.focus();
      ask('i1', {}, ALICE);
      expect(tracker.widgetFor('i1')).not.toBeNull();
      expect(document.activeElement).toBe(outside);
      outside.remove();
    });

    it('stays put when the notebook is not the current one', () => {
      username = 'alice';
      current = false;
      const tracker = track();
      ask('i1', {}, ALICE);
      expect(tracker.widgetFor('i1')).not.toBeNull();
      expect(document.activeElement).not.toBe(
        tracker.widgetFor('i1')?.inputNode
      );
    });
  });

  it('stops when disposed, and with its notebook', () => {
    const tracker = track();
    ask();
    const widget = tracker.widgetFor('i1')!;
    tracker.dispose();
    expect(widget.isDisposed).toBe(true);
    expect(boxes()).toEqual([]);
    ask('i2');
    expect(boxes()).toEqual([]);

    const other = secondView();
    const second = track(other);
    expect(second.widgets.map(widget => widget.inputId)).toEqual(['i1', 'i2']);
    other.dispose();
    expect(second.isDisposed).toBe(true);
  });
});

describe('CellInputTracker in a windowed notebook', () => {
  async function waitFor(condition: () => boolean, timeout = 5000) {
    const deadline = Date.now() + timeout;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error('Timed out');
      }
      await new Promise(resolve => setTimeout(resolve, 5));
    }
  }

  it('adds the box when a placeholder cell is rendered', async () => {
    const model = createModel(['a = 1', 'b = input()']);
    const server = new ServerDoc();
    Y.applyUpdate(server.doc, Y.encodeStateAsUpdate(ydocOf(model)), 'remote');
    const notebook = new Notebook({
      rendermime: NBTestUtils.defaultRenderMime(),
      contentFactory: NBTestUtils.createNotebookFactory(),
      mimeTypeService: NBTestUtils.mimeTypeService,
      notebookConfig: {
        ...StaticNotebook.defaultNotebookConfig,
        windowingMode: 'contentVisibility'
      }
    });
    notebook.model = model;
    const tracker = new CellInputTracker({
      notebook,
      backend: new RecordingBackend()
    });
    const cell = notebook.widgets[1];
    server.addRequest('r1', cellId(cell));
    server.addInput('i1', { cell_id: cellId(cell), request_id: 'r1' });
    syncInto(ydocOf(model), server.doc);

    expect(cell.isPlaceholder()).toBe(true);
    const widget = tracker.widgetFor('i1');
    expect(widget?.parent).toBeNull();

    Widget.attach(notebook, document.body);
    await waitFor(() => notebook.widgets.every(c => !c.isPlaceholder()));
    await drain();
    expect(widget?.parent).toBe(cell);

    tracker.dispose();
    Widget.detach(notebook);
    notebook.dispose();
    model.dispose();
  });
});

/* ------------------------------------------------------------------------------------
 * The REST client.
 * ---------------------------------------------------------------------------------- */

describe('CollabExecClient.answerInput', () => {
  function client(answer: { status: number; body: unknown }): {
    client: CollabExecClient;
    sent: Array<{ url: string; method: string; body: unknown }>;
  } {
    const sent: Array<{ url: string; method: string; body: unknown }> = [];
    const fetchStub = async (
      input: RequestInfo | URL,
      init?: RequestInit
    ): Promise<Response> => {
      const request = new Request(input, init);
      sent.push({
        url: request.url,
        method: request.method,
        body: JSON.parse(await request.text())
      });
      return new Response(JSON.stringify(answer.body), {
        status: answer.status,
        headers: { 'Content-Type': 'application/json' }
      });
    };
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: fetchStub
    });
    return { client: new CollabExecClient(settings), sent };
  }

  it('posts the document, the input and the value', async () => {
    const { client: api, sent } = client({
      status: 200,
      body: { status: 'answered' }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'Ada')).resolves.toEqual({
      ok: true
    });
    expect(sent).toEqual([
      {
        url: expect.stringMatching(
          /^http:\/\/localhost:8888\/api\/collab-exec\/input(\?\d+)?$/
        ),
        method: 'POST',
        body: { document_id: DOCUMENT_ID, input_id: 'i1', value: 'Ada' }
      }
    ]);
  });

  it('resolves a conflict with who answered', async () => {
    const { client: api } = client({
      status: 409,
      body: {
        message: 'This input was already answered.',
        status: 'answered',
        answered_by: BOB
      }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'x')).resolves.toEqual({
      ok: false,
      status: 'answered',
      answeredBy: BOB,
      message: 'This input was already answered.'
    });
  });

  it('resolves a cancelled input', async () => {
    const { client: api } = client({
      status: 409,
      body: { message: 'This input was cancelled.', status: 'cancelled' }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'x')).resolves.toEqual({
      ok: false,
      status: 'cancelled',
      answeredBy: null,
      message: 'This input was cancelled.'
    });
  });

  it.each<[number, unknown]>([
    [404, { message: 'Unknown input' }],
    [400, { message: "'value' must be a string." }],
    [409, { message: 'Conflict of another kind', status: 'queued' }]
  ])("rejects a %p with the server's message", async (status, body) => {
    const { client: api } = client({ status, body });
    const error = await api
      .answerInput(DOCUMENT_ID, 'i1', 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ServerConnection.ResponseError).response.status).toBe(
      status
    );
    expect((error as ServerConnection.ResponseError).message).toBe(
      (body as { message: string }).message
    );
  });
});
