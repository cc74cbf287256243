import { InputHistory } from '../../input/history';

describe('InputHistory', () => {
  it('keeps answers newest last, without empty ones or repeats', () => {
    const history = new InputHistory(3);
    for (const line of ['a', '', 'b', 'b', 'c', 'd']) {
      history.push(line);
    }
    expect(history.lines).toEqual(['b', 'c', 'd']);
    expect(history.at(-1)).toBe('d');
    expect(history.at(-3)).toBe('b');
    expect(history.at(-4)).toBeUndefined();
    expect(history.at(0)).toBeUndefined();
  });

  it('searches by prefix, both ways', () => {
    const history = new InputHistory();
    for (const line of ['apple', 'banana', 'apricot', 'cherry']) {
      history.push(line);
    }
    expect(history.search('ap', 0, true)).toBe(-2);
    expect(history.search('ap', -2, true)).toBe(-4);
    expect(history.search('ap', -4, true)).toBeUndefined();
    expect(history.search('ap', -4, false)).toBe(-2);
    expect(history.search('ap', -2, false)).toBeUndefined();
    // A prefix, not a substring.
    expect(history.search('an', 0, true)).toBeUndefined();
  });
});
