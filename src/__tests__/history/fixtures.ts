/**
 * Runs as the server lists them, and a history backend that answers from a list of runs
 * as the server does: newest first, in pages, of one cell or person when asked.
 */
import type { IPerson } from '../../doc/schema';
import type { IHistoryBackend, IHistoryQuery } from '../../server/backends';
import type { IRunDetail, IRunPage, IRunSummary } from '../../server/runs';
import { ALICE } from '../helpers';

export function runSummary(
  number: number,
  fields: Partial<IRunSummary> = {}
): IRunSummary {
  return {
    run_id: `run-${number}`,
    cell_id: 'cell-0',
    source: `print(${number})`,
    execution_count: number,
    status: 'ok',
    reason: null,
    submitted_by: ALICE,
    submitted_at: 1000 * number,
    started_at: 1000 * number + 100,
    finished_at: 1000 * number + 600,
    output_count: 1,
    inputs: [],
    kind: 'run',
    restored_from: null,
    ...fields
  };
}

/**
 * Answers from `runs` (oldest first), as the server would; records each query.
 */
export class ListedHistory implements IHistoryBackend {
  constructor(public runs: IRunSummary[] = []) {}

  queries: IHistoryQuery[] = [];
  restored: Array<[string, string, string]> = [];
  failWith: Error | null = null;

  info() {
    return Promise.resolve({ version: '0', features: ['history'] });
  }

  async history(query: IHistoryQuery): Promise<IRunPage> {
    this.queries.push(query);
    if (this.failWith) {
      throw this.failWith;
    }
    let newestFirst = [...this.runs]
      .reverse()
      .filter(
        run =>
          (query.cellId === undefined || run.cell_id === query.cellId) &&
          (query.submittedBy === undefined ||
            run.submitted_by.username === query.submittedBy)
      );
    if (query.before !== undefined) {
      const index = newestFirst.findIndex(run => run.run_id === query.before);
      newestFirst = index < 0 ? [] : newestFirst.slice(index + 1);
    }
    const limit = query.limit ?? 50;
    const page = newestFirst.slice(0, limit);
    return {
      runs: page,
      next: newestFirst.length > limit ? page[page.length - 1].run_id : null
    };
  }

  async historyRun(_documentId: string, runId: string): Promise<IRunDetail> {
    const run = this.runs.find(candidate => candidate.run_id === runId);
    if (!run) {
      throw new Error(`No run ${runId}`);
    }
    return {
      ...run,
      outputs: [{ output_type: 'stream', name: 'stdout', text: `${runId}\n` }]
    };
  }

  async restoreRun(
    documentId: string,
    cellId: string,
    runId: string
  ): Promise<void> {
    this.restored.push([documentId, cellId, runId]);
  }
}

export function by(person: IPerson): Partial<IRunSummary> {
  return { submitted_by: person };
}
