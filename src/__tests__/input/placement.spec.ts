import { Notification } from '@jupyterlab/apputils';
import type { Notebook, NotebookModel } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { Widget } from '@lumino/widgets';

import { InputHistory } from '../../input/history';
import { CellInputTracker } from '../../input/placement';
import { INPUT_CLASS } from '../../input/widget';
import type { IPerson } from '../../doc/schema';
import {
  ALICE,
  BOB,
  cellId,
  conflict,
  createModel,
  DOCUMENT_ID,
  drain,
  exchange,
  HTML_PROMPT,
  type IWrittenInput,
  press,
  RecordingInputBackend,
  reloaded,
  ServerDoc,
  sharedNotebook,
  syncInto,
  typeAt,
  waitFor,
  windowedNotebook,
  withoutYjsWarnings,
  ydocOf
} from '../helpers';

describe('CellInputTracker', () => {
  let model: NotebookModel;
  let notebook: Notebook;
  let server: ServerDoc;
  let backend: RecordingInputBackend;
  let history: InputHistory;
  let trackers: CellInputTracker[];
  let views: Notebook[];
  let username: string | null;
  let current: boolean;

  beforeEach(() => {
    ({ model, notebook, server } = sharedNotebook(
      ['name = input("Name?")', 'b = 2'],
      'raw'
    ));
    model.sharedModel.setState('document_id', DOCUMENT_ID);
    backend = new RecordingInputBackend();
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
    backend.answer = conflict('answered', BOB);
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
    const { model: later, view } = reloaded(model);
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
    expect(tracker.widgetFor('i1')).toBeNull();
    server.entry('i1').set('status', 'pending');
    server.entry('i1').set('prompt', { html: '<b>x</b>' });
    sync();
    expect(tracker.widgetFor('i1')).toBeNull();
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
    const cell = notebook.widgets[0];
    expect(['i1', 'i2'].map(id => tracker.widgetFor(id)?.parent)).toEqual([
      cell,
      cell
    ]);
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
    expect(['i1', 'i2'].map(id => second.widgetFor(id)?.inputId)).toEqual([
      'i1',
      'i2'
    ]);
    other.dispose();
    expect(second.isDisposed).toBe(true);
  });
});

describe('CellInputTracker in a windowed notebook', () => {
  it('adds the box when a placeholder cell is rendered', async () => {
    const model = createModel(['a = 1', 'b = input()'], 'raw');
    const server = ServerDoc.from(ydocOf(model));
    const notebook = windowedNotebook(model);
    const tracker = new CellInputTracker({
      notebook,
      backend: new RecordingInputBackend()
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
