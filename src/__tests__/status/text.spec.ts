// The tests compare the English texts that the widgets show.
/* eslint-disable jupyter/no-untranslated-string */
import { nullTranslator } from '@jupyterlab/translation';

import { type IRequestEntry, REQUEST_STATUSES } from '../../doc/schema';
import {
  badgeState,
  formatDuration,
  formatTime,
  type IBadgeState
} from '../../status/text';
import { BOB, requestEntry as entry, testFormat } from '../helpers';

const trans = nullTranslator.load('jupyterlab-collab-exec');

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [999, '0s'],
    [1000, '1s'],
    [59_999, '59s'],
    [60_000, '1m 00s'],
    [65_000, '1m 05s'],
    [3_599_000, '59m 59s'],
    [3_600_000, '1h 00m'],
    [7_380_000, '2h 03m'],
    [-5000, '0s']
  ])('formats %p ms as %p', (ms, text) => {
    expect(formatDuration(ms, trans)).toBe(text);
  });
});

describe('formatTime', () => {
  it('shows the time of day, and the date only for another day', () => {
    const now = new Date(2024, 4, 17, 15, 30).getTime();
    const sameDay = new Date(2024, 4, 17, 12, 3, 9).getTime();
    const otherDay = new Date(2023, 0, 2, 12, 3, 9).getTime();
    expect(formatTime(sameDay, now, false)).toMatch(/12.03/);
    expect(formatTime(sameDay, now, false)).not.toMatch(/2024/);
    expect(formatTime(sameDay, now, true)).toMatch(/12.03.09/);
    expect(formatTime(otherDay, now, false)).toMatch(/2023/);
  });
});

describe('badgeState', () => {
  const options = { now: 20_000, trans, formatTime: testFormat };

  /**
   * The badge of request `a` with the given fields, at `options.now`.
   */
  function badgeOf(fields: Partial<IRequestEntry> = {}): IBadgeState {
    return badgeState(entry('a', fields), options);
  }

  it('shows the queue position of a queued request', () => {
    const state = badgeState(entry('a'), {
      ...options,
      queue: { position: 2, total: 3 }
    });
    expect(state).toEqual({
      status: 'queued',
      label: 'Queued (2 of 3)',
      elapsed: null,
      title: "Queued by Alice at t=1.s. Position 2 of 3 in the kernel's queue."
    });
  });

  it('shows a queued request without a known position', () => {
    expect(badgeOf().label).toBe('Queued');
  });

  it('shows who runs a request and for how long', () => {
    const state = badgeOf({
      status: 'running',
      started_at: 8_000,
      submitted_by: BOB
    });
    expect(state.label).toBe('Running · Bob B.');
    expect(state.elapsed).toBe('12s');
    expect(state.title).toBe('Running since t=8.s (12s), run by Bob B..');
  });

  it('counts the running time from the submission when the start is unknown', () => {
    const state = badgeOf({ status: 'running' });
    expect(state.elapsed).toBe('19s');
  });

  it('shows who waits for input', () => {
    const state = badgeOf({ status: 'awaiting_input', started_at: 3000 });
    expect(state.label).toBe('Waiting for input · Alice');
    expect(state.elapsed).toBeNull();
    expect(state.title).toBe(
      'Waiting for input; run by Alice. Started at t=3.s.'
    );
  });

  it('shows who ran a cell and when', () => {
    const state = badgeOf({
      status: 'ok',
      started_at: 2000,
      finished_at: 14_000,
      execution_count: 7
    });
    expect(state).toEqual({
      status: 'ok',
      label: 'Run by Alice · t=14',
      elapsed: null,
      title:
        'Run by Alice, finished at t=14.s. It took 12s. Execution count: 7.'
    });
    expect(state.label).toMatch(/run by Alice/i);
  });

  it('shows a failed run with who ran it', () => {
    const failed = { status: 'error', finished_at: 5000 } as const;
    const state = badgeOf({ ...failed, submitted_by: BOB });
    expect(state.label).toBe('Failed · Run by Bob B. · t=5');
    expect(state.title).toBe('Run by Bob B., failed at t=5.s.');
  });

  it('shows cancelled and interrupted requests', () => {
    expect(badgeOf({ status: 'cancelled' })).toEqual({
      status: 'cancelled',
      label: 'Cancelled',
      elapsed: null,
      title: 'Cancelled before it ran. It was queued by Alice at t=1.s.'
    });
    const interrupted = badgeOf({ status: 'interrupted', started_at: 4000 });
    expect(interrupted.label).toBe('Interrupted');
    expect(interrupted.title).toBe(
      'Interrupted; run by Alice. Started at t=4.s.'
    );
  });

  it('names an unknown user when the entry has no name', () => {
    const state = badgeOf({
      status: 'ok',
      submitted_by: { username: '', display_name: '' }
    });
    expect(state.label).toBe('Run by an unknown user · t=1');
  });

  it('gives every status a label', () => {
    for (const status of REQUEST_STATUSES) {
      const state = badgeOf({ status });
      expect(state.status).toBe(status);
      expect(state.label).not.toBe('');
      expect(state.title).not.toBe('');
    }
  });

  describe('with the reason the server gives', () => {
    it.each<['interrupted' | 'cancelled', string]>([
      ['interrupted', 'Interrupted'],
      ['cancelled', 'Cancelled']
    ])('shows it for the status %s, and in the tooltip', (status, label) => {
      const plain = badgeOf({ status });
      const state = badgeOf({ status, reason: 'The kernel died.' });
      expect(state).toEqual({
        status,
        label,
        elapsed: null,
        reason: 'The kernel died.',
        title: `${plain.title} Reason: The kernel died.`
      });
    });

    it('is left out of the other statuses', () => {
      for (const status of ['queued', 'running', 'ok', 'error'] as const) {
        const state = badgeOf({ status, reason: 'Server error: boom' });
        expect(state.reason).toBeUndefined();
        expect(state.title).not.toContain('boom');
      }
    });

    it('is introduced in the language of the translator', () => {
      const french = Object.create(trans) as typeof trans;
      french.__ = (text: string, ...args: unknown[]) =>
        (text === 'Reason: %1' ? 'Raison : %1' : text).replace(
          /%(\d)/g,
          (_match, index: string) => String(args[Number(index) - 1])
        );
      const state = badgeState(
        entry('a', { status: 'interrupted', reason: 'The kernel died.' }),
        { ...options, trans: french }
      );
      expect(state.label).toBe('Interrupted');
      expect(state.title).toContain('Raison : The kernel died.');
    });
  });
});
