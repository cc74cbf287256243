import { FollowTimer } from '../../widgets/followTimer';

describe('FollowTimer', () => {
  let now = 0;
  let timer: FollowTimer;
  let due: string[];

  beforeEach(() => {
    jest.useFakeTimers();
    now = 0;
    due = [];
    timer = new FollowTimer({ quietMs: 300, maxLagMs: 700, now: () => now });
    timer.due.connect((_, modelId) => due.push(`${modelId}@${now}`));
  });

  afterEach(() => {
    timer.dispose();
    jest.useRealTimers();
  });

  function advance(ms: number): void {
    for (let step = 0; step < ms; step += 10) {
      now += 10;
      jest.advanceTimersByTime(10);
    }
  }

  it('follows once the model has been quiet', () => {
    timer.changed('a');
    advance(290);
    expect(due).toEqual([]);
    expect(timer.isPending('a')).toBe(true);
    advance(10);
    expect(due).toEqual(['a@300']);
    expect(timer.isPending('a')).toBe(false);
  });

  it('follows at least every 700 ms while the doc keeps changing', () => {
    for (let step = 0; step < 200; step++) {
      timer.changed('a');
      advance(20);
    }
    expect(due).toEqual(['a@700', 'a@1400', 'a@2100', 'a@2800', 'a@3500']);
    advance(300);
    expect(due.slice(-1)).toEqual(['a@4200']);
  });

  it('waits for quiet, however long, while this browser changes the model', () => {
    for (let step = 0; step < 100; step++) {
      timer.changedHere('a');
      timer.changed('a');
      advance(50);
    }
    expect(due).toEqual([]);
    advance(300);
    expect(due).toEqual(['a@5250']);
  });

  it('keeps each model on its own clock, and stops when disposed', () => {
    timer.changed('a');
    advance(100);
    timer.changed('b');
    advance(200);
    expect(due).toEqual(['a@300']);
    timer.dispose();
    advance(500);
    expect(due).toEqual(['a@300']);
  });
});
