import { Notification } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import * as Y from 'yjs';

import { InputHistory } from '../../input/history';
import { CollabInputWidget } from '../../input/widget';
import { CollabExecModel } from '../../doc/model';
import {
  BOB,
  conflict,
  DOCUMENT_ID,
  drain,
  exchange,
  HTML_PROMPT,
  type IWrittenInput,
  notificationsDuring,
  press,
  RecordingInputBackend,
  ServerDoc,
  syncInto,
  typeAt
} from '../helpers';

describe('CollabInputWidget', () => {
  let server: ServerDoc;
  let doc: Y.Doc;
  let model: CollabExecModel;
  let backend: RecordingInputBackend;
  let history: InputHistory;
  let widget: CollabInputWidget;

  beforeEach(() => {
    server = new ServerDoc();
    server.addRequest('r1', 'c1');
    doc = new Y.Doc();
    model = new CollabExecModel(doc);
    backend = new RecordingInputBackend();
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
    backend.answer = conflict('answered', BOB);
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
    backend.answer = conflict('answered');
    await widget.submit();
    expect(note().textContent).toBe('Answered by Bob B.');
  });

  it('says when the input was cancelled', async () => {
    create();
    backend.answer = conflict('cancelled');
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
