// The tests compare the English texts that the views show.
/* eslint-disable jupyter/no-untranslated-string */
import { sameSource, sourceChanges } from '../../history/diff';
import { runFacts, runLine } from '../../history/text';
import { BOB, testFormat } from '../helpers';
import { runSummary } from './fixtures';

const NOW = 10_000;

describe('runLine', () => {
  it('says who ran it, how it ended, when and for how long', () => {
    expect(
      runLine(runSummary(3), { now: NOW, formatTime: testFormat })
    ).toEqual({
      prompt: '[3]',
      label: 'Finished · Alice',
      when: `${testFormat(3600, NOW, true)} · 0s`,
      title: `Finished: run by Alice, at ${testFormat(3600, NOW, true)}. It took 0s. Execution count: 3. 1 output.`
    });
  });

  it('names a restore, and a failure with its reason', () => {
    const restore = runLine(
      runSummary(4, { kind: 'restore', submitted_by: BOB, started_at: null }),
      { now: NOW, formatTime: testFormat }
    );
    expect(restore.label).toBe('Restored by Bob B.');
    expect(restore.when).toBe(testFormat(4600, NOW, true));
    const failed = runLine(
      runSummary(2, {
        status: 'interrupted',
        reason: 'The kernel died.',
        execution_count: null,
        output_count: 0
      }),
      { now: NOW, formatTime: testFormat }
    );
    expect(failed.prompt).toBe('[ ]');
    expect(failed.label).toBe('Interrupted · Alice');
    expect(failed.title).toContain('Reason: The kernel died.');
    expect(failed.title).toContain('0 outputs.');
  });
});

describe('runFacts', () => {
  it('lists the times, the count and the answers, never a password', () => {
    const facts = runFacts(
      runSummary(1, {
        inputs: [
          {
            prompt: 'Name?',
            password: false,
            value: 'Ada',
            answered_by: BOB,
            answered_at: 1500
          },
          {
            prompt: 'Password:',
            password: true,
            value: null,
            answered_by: null,
            answered_at: null
          }
        ]
      }),
      { now: NOW, formatTime: testFormat }
    );
    expect(facts).toEqual([
      'Finished, run by Alice.',
      `Asked for at ${testFormat(1000, NOW, true)}.`,
      `Started at ${testFormat(1100, NOW, true)}.`,
      `Ended at ${testFormat(1600, NOW, true)}.`,
      'It took 0s.',
      'Execution count: 1.',
      'Bob B. answered "Ada" to "Name?".',
      'an unknown user answered the password prompt "Password:".'
    ]);
  });
});

describe('sourceChanges', () => {
  it("gives the lines only in the run's source and only in the cell's now", () => {
    const changes = sourceChanges('a = 1\nprint(a)', 'a = 2\nprint(a)\n');
    expect(changes).toEqual([
      { kind: 'removed', text: 'a = 1\n' },
      { kind: 'added', text: 'a = 2\n' },
      { kind: 'same', text: 'print(a)\n' }
    ]);
    expect(sameSource(changes)).toBe(false);
    expect(sameSource(sourceChanges('x', 'x\n'))).toBe(true);
    expect(sourceChanges('', '')).toEqual([]);
  });
});
