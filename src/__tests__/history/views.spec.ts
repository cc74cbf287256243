// The tests compare the English texts that the views show.
/* eslint-disable jupyter/no-untranslated-string */
import type { NotebookModel } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';
import { Widget } from '@lumino/widgets';

import { ActivityPanel } from '../../history/activity';
import { CellHistoryView } from '../../history/cellHistory';
import {
  historyRendermime,
  WIDGET_VIEW_MIME_TYPE
} from '../../history/detailView';
import { RunList } from '../../history/list';
import { RunListView } from '../../history/listView';
import type { IRunSummary } from '../../server/runs';
import {
  ALICE,
  BOB,
  createModel,
  DOCUMENT_ID,
  press,
  waitFor
} from '../helpers';
import { by, ListedHistory, runSummary } from './fixtures';

function options(widget: Widget): HTMLElement[] {
  return Array.from(widget.node.querySelectorAll<HTMLElement>('[role=option]'));
}

function selectedId(widget: Widget): string | undefined {
  return options(widget).find(
    option => option.getAttribute('aria-selected') === 'true'
  )?.dataset.runId;
}

describe('RunListView', () => {
  let backend: ListedHistory;
  let list: RunList;
  let view: RunListView;

  beforeEach(async () => {
    backend = new ListedHistory([1, 2, 3].map(n => runSummary(n)));
    list = new RunList({
      backend,
      query: { documentId: DOCUMENT_ID },
      pageSize: 2
    });
    view = new RunListView({ list, label: 'Runs' });
    Widget.attach(view, document.body);
    await list.load();
  });

  afterEach(() => {
    view.dispose();
    list.dispose();
  });

  it('is a listbox of the newest runs, the newest selected, until someone chooses', async () => {
    const listbox = view.node.querySelector('[role=listbox]')!;
    expect(listbox.getAttribute('aria-label')).toBe('Runs');
    expect(options(view).map(option => option.dataset.runId)).toEqual([
      'run-3',
      'run-2'
    ]);
    expect(selectedId(view)).toBe('run-3');
    expect(listbox.getAttribute('aria-activedescendant')).toBe(
      options(view)[0].id
    );

    // A new run is selected while nobody chose one.
    backend.runs.push(runSummary(4));
    await list.refresh();
    expect(selectedId(view)).toBe('run-4');

    const more = view.node.querySelector<HTMLButtonElement>(
      '.jp-CollabExec-historyMore'
    )!;
    expect(more.hidden).toBe(false);
    more.click();
    await waitFor(() => options(view).length === 4);
    expect(more.hidden).toBe(true);
  });

  it('moves with the arrow keys, Home and End, and activates with Enter', async () => {
    const listbox = view.node.querySelector<HTMLElement>('[role=listbox]')!;
    const selections: Array<string | null> = [];
    const activations: string[] = [];
    view.selectionChanged.connect((_view, run) =>
      selections.push(run?.run_id ?? null)
    );
    view.activated.connect((_view, run) => activations.push(run.run_id));

    press(listbox, 'ArrowDown');
    press(listbox, 'ArrowDown');
    expect(selectedId(view)).toBe('run-2');
    press(listbox, 'Home');
    press(listbox, 'End');
    press(listbox, 'ArrowUp');
    press(listbox, 'Enter');
    expect(selections).toEqual(['run-2', 'run-3', 'run-2', 'run-3']);
    expect(activations).toEqual(['run-3']);

    // Once chosen, the selection stays as new runs come in.
    backend.runs.push(runSummary(4));
    await list.refresh();
    expect(selectedId(view)).toBe('run-3');

    options(view)[2].click();
    expect(activations).toEqual(['run-3', 'run-2']);
  });

  it('says when there is nothing, and why it cannot read', async () => {
    const status = view.node.querySelector('.jp-CollabExec-historyStatus')!;
    expect(status.getAttribute('role')).toBe('status');
    backend.failWith = new Error('Unavailable');
    await list.refresh();
    expect(status.textContent).toBe('Cannot read the run history: Unavailable');
    backend.failWith = null;
    backend.runs = [];
    await list.load();
    expect(status.textContent).toBe('No runs recorded yet.');
  });
});

/**
 * The history of one cell of a notebook model, shown in the document.
 */
function attachedHistory(
  backend: ListedHistory,
  model: NotebookModel,
  cellId: string
): CellHistoryView {
  const view = new CellHistoryView({
    backend,
    documentId: DOCUMENT_ID,
    cellId,
    notebook: model.sharedModel,
    collab: null,
    rendermime: historyRendermime(NBTestUtils.defaultRenderMime())
  });
  Widget.attach(view, document.body);
  return view;
}

describe('CellHistoryView', () => {
  it("shows the selected run's outputs and source against the cell's now, and restores it", async () => {
    const model = createModel(['print(2)']);
    const cell = model.sharedModel.cells[0];
    const backend = new ListedHistory([
      runSummary(1, { cell_id: cell.getId(), source: 'print(1)' }),
      runSummary(2, { cell_id: cell.getId(), source: 'print(2)' })
    ]);
    const view = attachedHistory(backend, model, cell.getId());
    const detail = view.node.querySelector<HTMLElement>(
      '.jp-CollabExec-historyDetail'
    )!;
    const outputs = () =>
      detail.querySelector('.jp-OutputArea')?.textContent?.trim();
    const source = () => detail.querySelector('.jp-CollabExec-historySource')!;

    await waitFor(() => outputs() === 'run-2');
    expect(source().querySelector('ins, del')).toBeNull();
    expect(source().textContent).toBe('print(2)');

    const listbox = view.node.querySelector<HTMLElement>('[role=listbox]')!;
    press(listbox, 'End');
    await waitFor(() => outputs() === 'run-1');
    expect(source().querySelector('del')?.textContent).toBe('print(1)\n');
    expect(source().querySelector('ins')?.textContent).toBe('print(2)\n');
    // The diff follows edits of the cell.
    cell.setSource('print(1)');
    expect(source().querySelector('ins, del')).toBeNull();

    detail
      .querySelector<HTMLButtonElement>('.jp-CollabExec-historyRestore')!
      .click();
    const notice = detail.querySelector('.jp-CollabExec-historyNotice')!;
    await waitFor(() => notice.textContent!.startsWith('Restored'));
    expect(backend.restored).toEqual([[DOCUMENT_ID, cell.getId(), 'run-1']]);

    // A deleted cell: the source alone.
    model.sharedModel.deleteCell(0);
    expect(
      detail.querySelector('.jp-CollabExec-historyHeading')!.textContent
    ).toBe('Source (the cell is no longer in the notebook)');
    view.dispose();
    model.dispose();
  });

  it('says why a restore was refused', async () => {
    const model = createModel(['x']);
    const cell = model.sharedModel.cells[0];
    const backend = new ListedHistory([
      runSummary(1, { cell_id: cell.getId() })
    ]);
    backend.restoreRun = () =>
      Promise.reject(new Error('The cell has a request queued or running.'));
    const view = attachedHistory(backend, model, cell.getId());
    const restore = () =>
      view.node.querySelector<HTMLButtonElement>(
        '.jp-CollabExec-historyRestore'
      )!;
    await waitFor(() => !restore().hidden);
    restore().click();
    const notice = view.node.querySelector('.jp-CollabExec-historyNotice')!;
    await waitFor(() => notice.classList.contains('jp-mod-error'));
    expect(notice.textContent).toBe(
      'Cannot restore: The cell has a request queued or running.'
    );
    expect(restore().disabled).toBe(false);
    view.dispose();
    model.dispose();
  });
});

describe('historyRendermime', () => {
  it("renders old runs' widgets as their text", () => {
    const rendermime = NBTestUtils.defaultRenderMime();
    rendermime.addFactory({
      safe: true,
      mimeTypes: [WIDGET_VIEW_MIME_TYPE],
      createRenderer: () => {
        throw new Error('not for old runs');
      }
    });
    const bundle = {
      [WIDGET_VIEW_MIME_TYPE]: { model_id: 'm1' },
      'text/plain': 'IntSlider(value=3)'
    };
    expect(rendermime.preferredMimeType(bundle)).toBe(WIDGET_VIEW_MIME_TYPE);
    expect(historyRendermime(rendermime).preferredMimeType(bundle)).toBe(
      'text/plain'
    );
  });
});

describe('ActivityPanel', () => {
  it("lists the notebook's runs with their cells, by person, and asks to go to a run's cell", async () => {
    const backend = new ListedHistory([
      runSummary(1, { ...by(ALICE), cell_id: 'c1' }),
      runSummary(2, { ...by(BOB), cell_id: 'c2' }),
      runSummary(3, { ...by(ALICE), cell_id: 'gone' })
    ]);
    const panel = new ActivityPanel({ backend });
    Widget.attach(panel, document.body);
    const select = panel.node.querySelector('select')!;
    expect(select.disabled).toBe(true);

    panel.setSource({
      documentId: DOCUMENT_ID,
      collab: null,
      cellLabels: new Map([
        ['c1', 'Cell 1'],
        ['c2', 'Cell 2']
      ])
    });
    await waitFor(() => options(panel).length === 3);
    const cells = () =>
      Array.from(
        panel.node.querySelectorAll('.jp-CollabExec-historyRunCell')
      ).map(node => node.textContent);
    expect(cells()).toEqual(['Deleted cell', 'Cell 2', 'Cell 1']);
    expect(Array.from(select.options).map(option => option.text)).toEqual([
      'Everyone',
      'Alice',
      'Bob B.'
    ]);

    select.value = 'bob';
    select.dispatchEvent(new Event('change'));
    await waitFor(() => options(panel).length === 1);
    expect(cells()).toEqual(['Cell 2']);

    const requested: IRunSummary[] = [];
    panel.cellRequested.connect((_panel, run) => requested.push(run));
    options(panel)[0].click();
    expect(requested.map(run => run.cell_id)).toEqual(['c2']);

    panel.setCellLabels(new Map([['c2', 'Cell 1']]));
    expect(cells()).toEqual(['Cell 1']);
    panel.setSource(null);
    expect(options(panel)).toEqual([]);
    panel.dispose();
  });
});
