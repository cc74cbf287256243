import {
  parseRunDetail,
  parseRunPage,
  parseRunSummary,
  runDuration
} from '../../server/runs';
import { runSummary } from '../history/fixtures';

describe('parseRunPage', () => {
  it('reads runs and the next page, leaving out malformed runs', () => {
    const page = parseRunPage({
      runs: [
        runSummary(2),
        { run_id: 'no-status', cell_id: 'c', source: '' },
        { ...runSummary(3), status: 'running' },
        'junk',
        runSummary(1)
      ],
      next: 'run-1'
    });
    expect(page?.runs.map(run => run.run_id)).toEqual(['run-2', 'run-1']);
    expect(page?.next).toBe('run-1');
    expect(parseRunPage({ runs: [], next: '' })).toEqual({
      runs: [],
      next: null
    });
    expect(parseRunPage({ next: null })).toBeNull();
    expect(parseRunPage('runs')).toBeNull();
  });

  it('never shows the value of a password prompt, and reads people as the doc does', () => {
    const run = parseRunSummary({
      ...runSummary(1),
      submitted_by: { username: 'ada', display_name: '' },
      execution_count: 'seven',
      kind: 'something',
      inputs: [
        {
          prompt: 'Password:',
          password: true,
          value: 'hunter2',
          answered_by: { username: 'bob', display_name: 'Bob' },
          answered_at: 5
        },
        { prompt: 'Name?', password: false, value: 'Ada', answered_by: null },
        { password: false }
      ]
    });
    expect(run?.submitted_by).toEqual({ username: 'ada', display_name: 'ada' });
    expect(run?.execution_count).toBeNull();
    expect(run?.kind).toBe('run');
    expect(run?.inputs).toEqual([
      {
        prompt: 'Password:',
        password: true,
        value: null,
        answered_by: { username: 'bob', display_name: 'Bob' },
        answered_at: 5
      },
      {
        prompt: 'Name?',
        password: false,
        value: 'Ada',
        answered_by: null,
        answered_at: null
      }
    ]);
  });

  it('reads a restore and the run it restored', () => {
    const run = parseRunSummary({
      ...runSummary(4),
      kind: 'restore',
      restored_from: 'run-1'
    });
    expect([run?.kind, run?.restored_from]).toEqual(['restore', 'run-1']);
  });
});

describe('parseRunDetail', () => {
  it('keeps the outputs of known types', () => {
    const stream = { output_type: 'stream', name: 'stdout', text: 'a\n' };
    const detail = parseRunDetail({
      ...runSummary(1),
      outputs: [stream, { output_type: 'unknown' }, 7]
    });
    expect(detail?.outputs).toEqual([stream]);
    expect(parseRunDetail(runSummary(1))).toBeNull();
  });
});

describe('runDuration', () => {
  it('is the time from start to end, or null for a run that never started', () => {
    expect(runDuration(runSummary(1))).toBe(500);
    expect(runDuration(runSummary(1, { started_at: null }))).toBeNull();
    expect(runDuration(runSummary(1, { started_at: 10, finished_at: 5 }))).toBe(
      0
    );
  });
});
