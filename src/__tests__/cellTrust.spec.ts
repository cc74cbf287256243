import { ServerRunTrust } from '../cellTrust';
import { cellId, reloaded, useSharedNotebook } from './helpers';

describe('ServerRunTrust', () => {
  const room = useSharedNotebook(['a = 1', 'b = 2']);

  function trusted(): boolean[] {
    return [...room.notebook.widgets]
      .filter(cell => cell.model.type === 'code')
      .map(cell => cell.model.trusted);
  }

  function untrustAll(): void {
    for (const cell of room.notebook.widgets) {
      cell.model.trusted = false;
    }
  }

  it('trusts a cell once the server runs it for someone, and only that cell', () => {
    untrustAll();
    const trust = new ServerRunTrust(room.notebook);
    expect(trusted()).toEqual([false, false]);

    const first = cellId(room.notebook.widgets[0]);
    room.server.queue([{ cell_id: first }]);
    room.sync();
    expect(trusted()).toEqual([true, false]);
    trust.dispose();
  });

  it('trusts what was run before the view opened', () => {
    const second = cellId(room.notebook.widgets[1]);
    room.server.queue([{ cell_id: second, status: 'ok' }]);
    room.sync();
    const later = reloaded(room.model);
    for (const cell of later.view.widgets) {
      cell.model.trusted = false;
    }
    const trust = new ServerRunTrust(later.view);
    const codeCells = [...later.view.widgets].filter(
      cell => cell.model.type === 'code'
    );
    expect(codeCells.map(cell => cell.model.trusted)).toEqual([false, true]);
    trust.dispose();
    later.view.dispose();
    later.model.dispose();
  });

  it('leaves a notebook without requests alone', () => {
    untrustAll();
    const trust = new ServerRunTrust(room.notebook);
    expect(trusted()).toEqual([false, false]);
    trust.dispose();
    expect(trust.isDisposed).toBe(true);
  });
});
