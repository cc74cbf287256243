import type {
  IServerInfo,
  ITrustAnswer,
  ITrustBackend,
  ITrustQuestion
} from '../../server/backends';
import { TrustVerifier } from '../../trust/verifier';
import { DOCUMENT_ID } from '../helpers';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

class Backend implements ITrustBackend {
  questions: ITrustQuestion[] = [];
  failing = false;
  features = ['trust'];

  info(): Promise<IServerInfo | null> {
    return Promise.resolve({ version: '1', features: this.features });
  }

  async verifyTrust(question: ITrustQuestion): Promise<ITrustAnswer> {
    this.questions.push(question);
    if (this.failing) {
      throw new Error('503');
    }
    const cells: ITrustAnswer['cells'] = {};
    for (const { cell_id, outputs } of question.cells ?? []) {
      cells[cell_id] = outputs.join() === A ? 'trusted' : 'untrusted';
    }
    const models: Record<string, boolean> = {};
    for (const [modelId, digest] of Object.entries(
      question.widget_models ?? {}
    )) {
      models[modelId] = digest === A;
    }
    return {
      cells,
      widget_models: models,
      widget_state:
        question.widget_state === undefined ? null : question.widget_state === A
    };
  }
}

describe('TrustVerifier', () => {
  it('asks once for everything asked in one turn', async () => {
    const backend = new Backend();
    const verifier = new TrustVerifier(backend);
    const answers = await Promise.all([
      verifier.cellVerdict(DOCUMENT_ID, 'c1', [A]),
      verifier.cellVerdict(DOCUMENT_ID, 'c2', [B]),
      verifier.modelConfirmed(DOCUMENT_ID, 'm1', A),
      verifier.widgetStateConfirmed(DOCUMENT_ID, B)
    ]);
    expect(answers).toEqual(['trusted', 'untrusted', true, false]);
    expect(backend.questions).toEqual([
      {
        document_id: DOCUMENT_ID,
        cells: [
          { cell_id: 'c1', outputs: [A] },
          { cell_id: 'c2', outputs: [B] }
        ],
        widget_models: { m1: A },
        widget_state: B
      }
    ]);
  });

  it('asks about other digests of the same cell in the next question', async () => {
    const backend = new Backend();
    const verifier = new TrustVerifier(backend);
    const answers = await Promise.all([
      verifier.cellVerdict(DOCUMENT_ID, 'c1', [B]),
      verifier.cellVerdict(DOCUMENT_ID, 'c1', [A]),
      verifier.widgetStateConfirmed(DOCUMENT_ID, B),
      verifier.widgetStateConfirmed(DOCUMENT_ID, A)
    ]);
    expect(answers).toEqual(['untrusted', 'trusted', false, true]);
    expect(backend.questions).toHaveLength(2);
  });

  it('keeps what the server confirmed, and asks again about what it refused', async () => {
    const backend = new Backend();
    const verifier = new TrustVerifier(backend);
    await verifier.cellVerdict(DOCUMENT_ID, 'c1', [A]);
    await verifier.cellVerdict(DOCUMENT_ID, 'c1', [B]);
    expect(await verifier.cellVerdict(DOCUMENT_ID, 'c1', [A])).toBe('trusted');
    expect(await verifier.cellVerdict(DOCUMENT_ID, 'c1', [B])).toBe(
      'untrusted'
    );
    expect(backend.questions).toHaveLength(3);
  });

  it('trusts nothing when the server cannot be asked', async () => {
    const backend = new Backend();
    backend.failing = true;
    const verifier = new TrustVerifier(backend);
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    expect(await verifier.cellVerdict(DOCUMENT_ID, 'c1', [A])).toBe(
      'untrusted'
    );
    expect(await verifier.modelConfirmed(DOCUMENT_ID, 'm', A)).toBe(false);
    expect(await verifier.widgetStateConfirmed(DOCUMENT_ID, A)).toBe(false);
    warn.mockRestore();
  });

  it('is off without the server feature', async () => {
    const backend = new Backend();
    backend.features = ['execute'];
    expect(await new TrustVerifier(backend).enabled()).toBe(false);
    backend.features = ['execute', 'trust'];
    expect(await new TrustVerifier(backend).enabled()).toBe(true);
  });
});
