import * as Y from 'yjs';

import { INPUTS, ROOT } from '../../doc/schema';
import {
  diffText,
  type IDeltaOperation,
  SharedInputBinding,
  transformPosition
} from '../../input/textSync';
import { exchange, ServerDoc, syncInto, typeAt } from '../helpers';

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
