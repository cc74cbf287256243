import type { ICodeCellModel } from '@jupyterlab/cells';
import { OutputArea } from '@jupyterlab/outputarea';
import {
  type IRenderMime,
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import * as Y from 'yjs';

import type {
  CellVerdict,
  IServerInfo,
  ITrustAnswer,
  ITrustBackend,
  ITrustQuestion
} from '../../server/backends';
import { NotebookOutputTrust, setOutputsTrusted } from '../../trust/cells';
import { grantLocalTrust } from '../../trust/local';
import { gateRenderers } from '../../trust/renderGate';
import { outputDigest } from '../../trust/digests';
import { TrustVerifier } from '../../trust/verifier';
import {
  DOCUMENT_ID,
  drain,
  reloaded,
  useSharedNotebook,
  waitFor,
  ydocOf
} from '../helpers';

const JS = 'application/javascript';
const GENUINE = {
  output_type: 'display_data',
  data: { [JS]: 'window.ok = 1', 'text/plain': 'genuine' },
  metadata: {}
};
const FORGED = {
  output_type: 'display_data',
  data: { [JS]: 'window.pwned = 1', 'text/plain': 'forged' },
  metadata: {}
};

/**
 * The server's side of trust: what it wrote for each cell, answered as the server
 * extension answers (trust/records.py): one of the lists it wrote, or none at all.
 */
class TrustServer implements ITrustBackend {
  written = new Map<string, string[][]>();
  questions: ITrustQuestion[] = [];
  features = ['execute', 'trust'];

  info(): Promise<IServerInfo | null> {
    return Promise.resolve({ version: '1', features: this.features });
  }

  async verifyTrust(question: ITrustQuestion): Promise<ITrustAnswer> {
    this.questions.push(question);
    const cells: Record<string, CellVerdict> = {};
    for (const { cell_id, outputs } of question.cells ?? []) {
      const lists = this.written.get(cell_id);
      cells[cell_id] = !lists
        ? 'unknown'
        : lists.some(list => list.join() === outputs.join())
          ? 'trusted'
          : 'untrusted';
    }
    return { cells, widget_models: {}, widget_state: null };
  }
}

/**
 * A renderer of JavaScript that runs nothing: it records what it was asked to render.
 */
class RecordingRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(private _renders: Array<{ text: string; trusted: boolean }>) {
    super();
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._renders.push({
      text: String(model.data[JS]),
      trusted: model.trusted
    });
  }
}

describe('Trust of cell outputs', () => {
  const room = useSharedNotebook(['a = 1']);
  let server: TrustServer;
  let renders: Array<{ text: string; trusted: boolean }>;

  beforeEach(() => {
    server = new TrustServer();
    renders = [];
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
  });

  function rendermime(): RenderMimeRegistry {
    const registry = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });
    registry.addFactory(
      {
        safe: false,
        mimeTypes: [JS],
        createRenderer: () => new RecordingRenderer(renders)
      },
      0
    );
    return registry;
  }

  /**
   * A view of the notebook's first cell: its output area, gated as the trust plugin
   * gates a panel's renderers.
   */
  function view(
    model = room.model,
    backend: ITrustBackend = server
  ): { cell: ICodeCellModel; area: OutputArea } {
    const trust = NotebookOutputTrust.forModel(
      model,
      new TrustVerifier(backend)
    );
    const registry = rendermime();
    gateRenderers(registry, output => trust.allowTrustedRender(output));
    const cell = model.cells.get(0) as ICodeCellModel;
    return {
      cell,
      area: new OutputArea({ model: cell.outputs, rendermime: registry })
    };
  }

  /**
   * Write outputs into the first cell of a doc, as one Y.Map each.
   */
  function writeOutputs(doc: Y.Doc, outputs: object[], replace = false): void {
    const cell = doc.getArray<Y.Map<unknown>>('cells').get(0);
    const youtputs = cell.get('outputs') as Y.Array<Y.Map<unknown>>;
    doc.transact(() => {
      if (replace) {
        youtputs.delete(0, youtputs.length);
      }
      youtputs.push(outputs.map(output => new Y.Map(Object.entries(output))));
    });
  }

  /**
   * The server writes the cell's outputs and records them as written.
   */
  function serverWrites(outputs: object[]): void {
    writeOutputs(room.server.doc, outputs, true);
    const lists = server.written.get(room.model.cells.get(0).id) ?? [];
    lists.push(
      outputs.map(
        output => outputDigest(output as Record<string, unknown>) as string
      )
    );
    server.written.set(room.model.cells.get(0).id, lists);
    room.sync();
  }

  /**
   * Another room member writes into the doc.
   */
  function attackerWrites(outputs: object[], replace = false): void {
    const mallory = new Y.Doc();
    Y.applyUpdate(mallory, Y.encodeStateAsUpdate(ydocOf(room.model)));
    writeOutputs(mallory, outputs, replace);
    Y.applyUpdate(
      ydocOf(room.model),
      Y.encodeStateAsUpdate(mallory, Y.encodeStateVector(ydocOf(room.model))),
      'remote'
    );
    Y.applyUpdate(
      room.server.doc,
      Y.encodeStateAsUpdate(mallory, Y.encodeStateVector(room.server.doc)),
      'remote'
    );
  }

  it('renders what the server wrote as trusted, in a view that never ran the cell', async () => {
    const { cell, area } = view();
    serverWrites([GENUINE]);
    await waitFor(() => renders.some(render => render.trusted));
    expect(cell.trusted).toBe(false);
    expect(renders.filter(render => render.trusted)).toEqual([
      { text: GENUINE.data[JS], trusted: true }
    ]);
    area.dispose();
  });

  it('never renders a forged output as trusted, live, and shows it untrusted', async () => {
    const { cell, area } = view();
    serverWrites([GENUINE]);
    await waitFor(() => cell.outputs.trusted && renders.length > 0);
    attackerWrites([FORGED]);
    await waitFor(() => !cell.outputs.trusted);
    await drain();
    expect(
      renders.filter(
        render => render.text === FORGED.data[JS] && render.trusted
      )
    ).toEqual([]);
    // Untrusted, the JavaScript is not even chosen: the output shows its text.
    expect(area.node.textContent).toContain('forged');

    // The server's next write is trusted again.
    serverWrites([GENUINE, GENUINE]);
    await waitFor(() => cell.outputs.trusted);
    area.dispose();
  });

  it('does not trust replaced outputs of a server-run cell after a reload, even with metadata.trusted', async () => {
    serverWrites([GENUINE]);
    attackerWrites([FORGED], true);
    // The attacker also marks the cell trusted, as JupyterLab shares it.
    room.model.cells.get(0).sharedModel.setMetadata('trusted', true);
    room.sync();
    const later = reloaded(room.model);
    later.model.sharedModel.setState('document_id', DOCUMENT_ID);
    const { cell, area } = view(later.model);
    expect(cell.trusted).toBe(true);
    await waitFor(() => !cell.outputs.trusted);
    await drain();
    expect(renders.filter(render => render.trusted)).toEqual([]);
    area.dispose();
    later.view.dispose();
    later.model.dispose();
  });

  it('trusts nothing read from the doc in a cell the server never wrote', async () => {
    const { cell, area } = view();
    // The empty output area is trusted, as JupyterLab trusts a cleared cell.
    await waitFor(() => cell.outputs.trusted);
    attackerWrites([FORGED]);
    await waitFor(() => !cell.outputs.trusted);
    await drain();
    expect(renders.filter(render => render.trusted)).toEqual([]);
    expect(server.questions.at(-1)?.cells?.[0].cell_id).toBe(cell.id);
    area.dispose();

    // Nor after a reload, with the cell marked trusted in the doc as JupyterLab marks the
    // cells it creates.
    room.model.cells.get(0).sharedModel.setMetadata('trusted', true);
    const later = reloaded(room.model);
    later.model.sharedModel.setState('document_id', DOCUMENT_ID);
    const reloadedView = view(later.model);
    expect(reloadedView.cell.trusted).toBe(true);
    await waitFor(() => !reloadedView.cell.outputs.trusted);
    await drain();
    expect(renders.filter(render => render.trusted)).toEqual([]);
    reloadedView.area.dispose();
    later.view.dispose();
    later.model.dispose();
  });

  it('trusts what the person in this page trusted: Trust Notebook, or a run by JupyterLab', async () => {
    const { cell, area } = view();
    attackerWrites([FORGED]);
    await waitFor(() => cell.outputs.length === 1);
    await drain();
    expect(renders.filter(render => render.trusted)).toEqual([]);
    // "Trust Notebook" sets the cell trusted while it shows its outputs.
    cell.trusted = true;
    await waitFor(() => renders.some(render => render.trusted));
    area.dispose();

    const second = reloaded(room.model);
    second.model.sharedModel.setState('document_id', DOCUMENT_ID);
    const other = view(second.model);
    await waitFor(() => !other.cell.outputs.trusted);
    const before = renders.length;
    // JupyterLab's own executor ran it here (server execution turned off).
    grantLocalTrust(other.cell);
    setOutputsTrusted(other.cell, true);
    await waitFor(() => renders.slice(before).some(render => render.trusted));
    other.area.dispose();
    second.view.dispose();
    second.model.dispose();
  });

  it('changes no trust without the server feature, and asks nothing', async () => {
    server.features = ['execute'];
    const { cell, area } = view();
    attackerWrites([FORGED]);
    await drain();
    await drain();
    expect(cell.outputs.trusted).toBe(false);
    cell.trusted = true;
    await waitFor(() => renders.some(render => render.trusted));
    expect(server.questions).toEqual([]);
    area.dispose();
  });

  it('changes trust without writing into the shared document', async () => {
    const { cell, area } = view();
    serverWrites([GENUINE]);
    const written: Uint8Array[] = [];
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin !== 'remote') {
        written.push(update);
      }
    };
    ydocOf(room.model).on('update', onUpdate);
    await waitFor(() => cell.outputs.trusted);
    setOutputsTrusted(cell, false);
    setOutputsTrusted(cell, true);
    ydocOf(room.model).off('update', onUpdate);
    expect(written).toEqual([]);
    expect(cell.sharedModel.getMetadata('trusted')).toBeUndefined();
    area.dispose();
  });
});
