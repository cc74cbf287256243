/**
 * The difference between a run's source and the cell's source now, line by line, as
 * jsdiff computes it.
 */
import { diffLines } from 'diff';

/**
 * A stretch of lines: in both sources, only in the run's, or only in the cell's now.
 */
export interface ISourceChange {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

/**
 * The changes from `ran` (the source as the run ran it) to `current`.
 */
export function sourceChanges(ran: string, current: string): ISourceChange[] {
  // Ensure the last lines compare equal whether or not a source ends with a newline.
  const changes = diffLines(withNewline(ran), withNewline(current));
  return changes
    .filter(change => change.value !== '')
    .map(change => ({
      kind: change.added ? 'added' : change.removed ? 'removed' : 'same',
      text: change.value
    }));
}

/**
 * Whether the run's source is the cell's source now.
 */
export function sameSource(changes: ReadonlyArray<ISourceChange>): boolean {
  return changes.every(change => change.kind === 'same');
}

function withNewline(source: string): string {
  return source === '' || source.endsWith('\n') ? source : `${source}\n`;
}
