// The tests compare the English texts that the widgets show.
/* eslint-disable jupyter/no-untranslated-string */
import { BADGE_CLASS, CellStatusBadge, statusClass } from '../../status/badge';

describe('statusClass', () => {
  it('turns statuses into CSS modifiers', () => {
    expect(statusClass('queued')).toBe('queued');
    expect(statusClass('awaiting_input')).toBe('awaitingInput');
  });
});

describe('CellStatusBadge', () => {
  it('is hidden until it has a state, with a class and data attribute per state', () => {
    const badge = new CellStatusBadge();
    expect(badge.hasClass(BADGE_CLASS)).toBe(true);
    expect(badge.isHidden).toBe(true);
    expect(badge.node.getAttribute('role')).toBe('status');
    expect(badge.node.getAttribute('aria-live')).toBe('polite');

    badge.render({
      status: 'running',
      label: 'Running · Alice',
      elapsed: '3s',
      title: 'details'
    });
    expect(badge.isHidden).toBe(false);
    expect(badge.node.textContent).toBe('Running · Alice · 3s');
    expect(badge.node.dataset.status).toBe('running');
    expect(badge.node.title).toBe('details');
    expect(badge.hasClass('jp-mod-running')).toBe(true);
    // The clock is a timer that screen readers do not announce every second.
    const timer = badge.node.querySelector('[role="timer"]');
    expect(timer?.getAttribute('aria-live')).toBe('off');

    badge.render({
      status: 'awaiting_input',
      label: 'Waiting for input · Alice',
      elapsed: null,
      title: 'details'
    });
    expect(badge.hasClass('jp-mod-running')).toBe(false);
    expect(badge.hasClass('jp-mod-awaitingInput')).toBe(true);
    expect(badge.node.textContent).toBe('Waiting for input · Alice');

    badge.render(null);
    expect(badge.isHidden).toBe(true);
    expect(badge.hasClass('jp-mod-awaitingInput')).toBe(false);
    expect(badge.node.dataset.status).toBeUndefined();
    badge.dispose();
  });

  it('shows the reason after the label, whole in its own tooltip', () => {
    const badge = new CellStatusBadge();
    const title =
      'Interrupted; run by Alice. Reason: Lost the connection to the kernel: timeout';
    badge.render({
      status: 'interrupted',
      label: 'Interrupted',
      elapsed: null,
      reason: 'Lost the connection to the kernel: timeout',
      title
    });
    expect(badge.node.textContent).toBe(
      'Interrupted · Lost the connection to the kernel: timeout'
    );
    expect(badge.node.title).toBe(title);
    const reason = badge.node.querySelector('.jp-CollabExec-badgeReason');
    expect(reason?.textContent).toBe(
      ' · Lost the connection to the kernel: timeout'
    );
    expect(reason?.getAttribute('title')).toBe(
      'Lost the connection to the kernel: timeout'
    );

    // The next state has none: the reason goes.
    badge.render({
      status: 'running',
      label: 'Running · Alice',
      elapsed: '1s',
      title: 'details'
    });
    expect(badge.node.textContent).toBe('Running · Alice · 1s');
    expect(reason?.hasAttribute('title')).toBe(false);
    badge.dispose();
  });
});
