/**
 * The reference for output equivalence: JupyterLab's own OutputAreaModel, fed the IOPub
 * messages that a real kernel sent (recorded by scripts/record_iopub.py).
 *
 * Each recording's expected outputs live beside it as `<name>.expected.json`, for the
 * Python tests that replay the same messages through the server. This suite fails when
 * they differ from what the model holds; `UPDATE_OUTPUT_FIXTURES=1 jlpm jest` rewrites them.
 */
import type * as nbformat from '@jupyterlab/nbformat';
import { OutputAreaModel } from '@jupyterlab/outputarea';
import * as fs from 'fs';
import * as path from 'path';

const FIXTURES = path.resolve(
  __dirname,
  '../../../jupyterlab_collab_exec/tests/fixtures/iopub'
);

interface IRecordedMessage {
  msg_type: string;
  content: Record<string, unknown>;
}

interface IRecording {
  name: string;
  cells: { cell_id: string; code: string; messages: IRecordedMessage[] }[];
}

type ExpectedOutputs = Record<string, nbformat.IOutput[]>;

const DISPLAY_TYPES = ['display_data', 'update_display_data', 'execute_result'];

function displayIdOf(message: IRecordedMessage): string | null {
  const transient = message.content.transient as
    { display_id?: unknown } | undefined;
  return typeof transient?.display_id === 'string'
    ? transient.display_id
    : null;
}

/**
 * A notebook's output areas, each with the display-id bookkeeping of JupyterLab's
 * OutputArea widget, and the routing of display ids between executions that
 * @jupyterlab/services' KernelConnection does.
 */
class NotebookOutputs {
  constructor(cellIds: string[]) {
    for (const cellId of cellIds) {
      const model = new OutputAreaModel({ trusted: true });
      const displayIds = new Map<string, number[]>();
      // OutputArea forgets its display ids when its model is cleared.
      model.changed.connect((_, change) => {
        if (change.type === 'remove' && model.length === 0) {
          displayIds.clear();
        }
      });
      this._areas.set(cellId, { model, displayIds });
    }
  }

  /**
   * KernelConnection._handleMessage: a message with a display id first updates every
   * execution that showed that id; an update goes nowhere else.
   */
  deliver(cellId: string, message: IRecordedMessage): void {
    const displayId = displayIdOf(message);
    if (displayId && DISPLAY_TYPES.includes(message.msg_type)) {
      const shownBy = this._shownBy.get(displayId) ?? [];
      for (const earlier of shownBy) {
        this._onIOPub(earlier, { ...message, msg_type: 'update_display_data' });
      }
      if (message.msg_type === 'update_display_data') {
        return;
      }
      if (!shownBy.includes(cellId)) {
        shownBy.push(cellId);
      }
      this._shownBy.set(displayId, shownBy);
    }
    this._onIOPub(cellId, message);
  }

  /**
   * OutputArea._onIOPub.
   */
  private _onIOPub(cellId: string, message: IRecordedMessage): void {
    const area = this._areas.get(cellId)!;
    const { model, displayIds } = area;
    const displayId = displayIdOf(message);
    switch (message.msg_type) {
      case 'execute_result':
      case 'display_data':
      case 'stream':
      case 'error':
        model.add({
          ...message.content,
          output_type: message.msg_type
        } as nbformat.IOutput);
        break;
      case 'clear_output':
        model.clear(message.content.wait as boolean);
        break;
      case 'update_display_data': {
        const output = {
          ...message.content,
          output_type: 'display_data'
        } as nbformat.IOutput;
        for (const index of (displayId && displayIds.get(displayId)) || []) {
          model.set(index, output);
        }
        break;
      }
      default:
        break;
    }
    if (displayId && message.msg_type === 'display_data') {
      const targets = displayIds.get(displayId) ?? [];
      targets.push(model.length - 1);
      displayIds.set(displayId, targets);
    }
  }

  toJSON(): ExpectedOutputs {
    const result: ExpectedOutputs = {};
    for (const [cellId, { model }] of this._areas) {
      result[cellId] = model.toJSON();
    }
    return result;
  }

  private _areas = new Map<
    string,
    { model: OutputAreaModel; displayIds: Map<string, number[]> }
  >();
  private _shownBy = new Map<string, string[]>();
}

function jupyterLabOutputs(recording: IRecording): ExpectedOutputs {
  const notebook = new NotebookOutputs(recording.cells.map(c => c.cell_id));
  for (const cell of recording.cells) {
    for (const message of cell.messages) {
      notebook.deliver(cell.cell_id, message);
    }
  }
  return notebook.toJSON();
}

const recordings = fs
  .readdirSync(FIXTURES)
  .filter(name => name.endsWith('.json') && !name.endsWith('.expected.json'))
  .sort();

describe('JupyterLab reference outputs for recorded kernel messages', () => {
  it('has a corpus to check', () => {
    expect(recordings.length).toBeGreaterThanOrEqual(5);
  });

  it.each(recordings)('%s', fileName => {
    const recording = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, fileName), 'utf-8')
    ) as IRecording;
    const outputs = jupyterLabOutputs(recording);
    const expectedPath = path.join(
      FIXTURES,
      fileName.replace(/\.json$/, '.expected.json')
    );
    if (process.env.UPDATE_OUTPUT_FIXTURES) {
      fs.writeFileSync(expectedPath, JSON.stringify(outputs, null, 1) + '\n');
    }
    const expected = JSON.parse(
      fs.readFileSync(expectedPath, 'utf-8')
    ) as ExpectedOutputs;
    expect(outputs).toEqual(expected);
  });

  it('processes carriage returns and backspaces as JupyterLab does', () => {
    const recording = JSON.parse(
      fs.readFileSync(path.join(FIXTURES, 'streams_cr_bs.json'), 'utf-8')
    ) as IRecording;
    const outputs = jupyterLabOutputs(recording);
    expect(outputs['cell-0']).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'XYcdef\n' }
    ]);
  });
});
