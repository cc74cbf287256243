// The tests compare the English texts that the widgets show.
/* eslint-disable jupyter/no-untranslated-string */
import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';

import type { IQueueBackend, IServerInfo } from '../../server/backends';
import {
  QueueToolbarItem,
  queueSummary,
  shownKernel
} from '../../status/toolbar';
import {
  cellId,
  DOCUMENT_ID,
  drain,
  KERNEL_ID,
  notificationsDuring,
  useSharedNotebook
} from '../helpers';

const trans = nullTranslator.load('jupyterlab-collab-exec');

describe('queueSummary', () => {
  it('shows the kernel state and the queue length', () => {
    expect(
      queueSummary({ kernel_id: KERNEL_ID, execution_state: 'busy' }, 2, trans)
    ).toEqual({
      state: 'busy',
      kernelLabel: 'Busy',
      queued: 2,
      queueLabel: '2 queued',
      title: 'Server execution. Kernel state: Busy. 2 cells are queued.'
    });
    expect(queueSummary(null, 1, trans).title).toBe(
      'Server execution. Kernel state: Unknown. 1 cell is queued.'
    );
    expect(
      queueSummary({ kernel_id: KERNEL_ID, execution_state: 'idle' }, 0, trans)
    ).toMatchObject({
      state: 'idle',
      kernelLabel: 'Idle',
      queueLabel: 'Queue empty'
    });
  });
});

/**
 * Stands in for the REST API: records every cancel call.
 */
class RecordingBackend implements IQueueBackend {
  calls: Array<{ documentId: string; requestIds: string[] | undefined }> = [];
  failure: Error | null = null;
  answer: string[] = [];
  onCancel: (() => void) | null = null;

  cancel(documentId: string, requestIds?: string[]): Promise<string[]> {
    this.calls.push({ documentId, requestIds });
    this.onCancel?.();
    return this.failure
      ? Promise.reject(this.failure)
      : Promise.resolve(this.answer);
  }
}

describe('shownKernel', () => {
  const record = { kernel_id: KERNEL_ID, execution_state: 'dead' as const };

  it("shows the doc's record of the view's kernel, or of the room's when the view has none", () => {
    expect(shownKernel(record, { kernelId: KERNEL_ID, status: 'idle' })).toBe(
      record
    );
    expect(shownKernel(record, { kernelId: null, status: 'unknown' })).toBe(
      record
    );
    expect(shownKernel(record, null)).toBe(record);
  });

  it("never shows a record of another kernel as the state of the view's kernel", () => {
    expect(
      shownKernel(record, { kernelId: 'new-kernel', status: 'idle' })
    ).toEqual({ kernel_id: 'new-kernel', execution_state: 'idle' });
    expect(
      shownKernel(record, { kernelId: 'new-kernel', status: 'autorestarting' })
        ?.execution_state
    ).toBe('restarting');
    expect(
      shownKernel(record, { kernelId: 'new-kernel', status: 'unknown' })
    ).toBeNull();
  });

  it('shows Busy while the server has work for the view kernel and no record of it yet', () => {
    // The browser's own kernel info request makes JupyterLab's status flicker.
    for (const status of ['busy', 'idle']) {
      expect(
        shownKernel(null, { kernelId: 'new-kernel', status }, true)
          ?.execution_state
      ).toBe('busy');
    }
    expect(
      shownKernel(record, { kernelId: 'new-kernel', status: 'idle' }, true)
        ?.execution_state
    ).toBe('busy');
    // The doc's record of the view's own kernel wins.
    expect(
      shownKernel(record, { kernelId: KERNEL_ID, status: 'busy' }, true)
    ).toBe(record);
  });

  it("shows an idle record of the view's kernel as Busy while the server has work for it", () => {
    const idle = { kernel_id: KERNEL_ID, execution_state: 'idle' as const };
    const view = { kernelId: KERNEL_ID, status: 'idle' };
    expect(shownKernel(idle, view, true)?.execution_state).toBe('busy');
    expect(shownKernel(idle, view, false)).toBe(idle);
    expect(shownKernel(idle, null, true)?.execution_state).toBe('busy');
  });

  it('shows the view kernel before the server has written any record', () => {
    expect(
      shownKernel(null, { kernelId: 'new-kernel', status: 'idle' })
    ).toEqual({ kernel_id: 'new-kernel', execution_state: 'idle' });
    expect(shownKernel(null, null)).toBeNull();
  });
});

const INFO: IServerInfo = {
  version: '0.1.0',
  features: ['execute', 'cancel', 'status']
};

describe('QueueToolbarItem', () => {
  const room = useSharedNotebook(['a = 1', 'b = 2', 'c = 3']);
  let backend: RecordingBackend;
  let item: QueueToolbarItem;

  beforeEach(() => {
    backend = new RecordingBackend();
  });

  afterEach(() => {
    item?.dispose();
    Notification.manager.dismiss();
  });

  function create(info: IServerInfo | null = INFO): QueueToolbarItem {
    item = new QueueToolbarItem({
      notebook: room.notebook,
      backend,
      serverInfo: Promise.resolve(info)
    });
    return item;
  }

  function button(): HTMLButtonElement {
    return item.node.querySelector('button') as HTMLButtonElement;
  }

  function cellIds(): string[] {
    return room.notebook.widgets.slice(0, 3).map(cellId);
  }

  it('shows nothing until the room id and the server info are known', async () => {
    create();
    expect(item.isHidden).toBe(true);
    await drain();
    // Not collaborative yet: the provider sets the room id once it has synced.
    expect(item.isHidden).toBe(true);
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    expect(item.isHidden).toBe(false);
    expect(item.summary?.queued).toBe(0);
  });

  it('stays hidden when the server lacks the extension', async () => {
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    create(null);
    await drain();
    expect(item.isHidden).toBe(true);
  });

  it('shows the kernel state and the queue from remote updates', async () => {
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    const state = item.node.querySelector('.jp-CollabExec-kernelState');
    const queue = item.node.querySelector('.jp-CollabExec-queueLength');
    expect(state?.textContent).toBe('Unknown');
    expect(queue?.textContent).toBe('Queue empty');
    expect(button().disabled).toBe(true);

    room.server.setKernel('busy');
    const ids = room.server.queue([
      { cell_id: cellIds()[0], status: 'running' },
      { cell_id: cellIds()[1] },
      { cell_id: cellIds()[2] }
    ]);
    room.sync();
    expect(state?.textContent).toBe('Busy');
    expect((state as HTMLElement).dataset.state).toBe('busy');
    expect(queue?.textContent).toBe('2 queued');
    expect(button().disabled).toBe(false);

    room.server.update(ids[1], { status: 'cancelled' });
    room.server.update(ids[2], { status: 'cancelled' });
    room.server.setKernel('idle');
    room.sync();
    expect(state?.textContent).toBe('Idle');
    expect(queue?.textContent).toBe('Queue empty');
    expect(button().disabled).toBe(true);
  });

  it('cancels every queued request of the document', async () => {
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    const ids = room.server.queue([
      { cell_id: cellIds()[0] },
      { cell_id: cellIds()[1] }
    ]);
    room.sync();
    backend.answer = ids;
    let disabledWhilePending = false;
    backend.onCancel = () => {
      disabledWhilePending = button().disabled;
    };
    button().click();
    await drain();
    expect(backend.calls).toEqual([
      { documentId: DOCUMENT_ID, requestIds: undefined }
    ]);
    expect(disabledWhilePending).toBe(true);
    // The doc, not the answer, changes what is shown.
    expect(button().disabled).toBe(false);
    for (const id of ids) {
      room.server.update(id, { status: 'cancelled' });
    }
    room.sync();
    expect(button().disabled).toBe(true);
  });

  it('reports a failed cancel', async () => {
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    create();
    await drain();
    room.server.queue([{ cell_id: cellIds()[0] }]);
    room.sync();
    backend.failure = new Error('403: Forbidden');
    const messages = await notificationsDuring(() => item.cancelQueued());
    expect(messages).toEqual([
      'Could not cancel the queued cells: 403: Forbidden'
    ]);
    expect(button().disabled).toBe(false);
  });

  it('cannot cancel on a server without the cancel feature', async () => {
    room.model.sharedModel.setState('document_id', DOCUMENT_ID);
    create({ version: '0.0.1', features: ['execute'] });
    await drain();
    room.server.queue([{ cell_id: cellIds()[0] }]);
    room.sync();
    expect(item.isHidden).toBe(false);
    expect(button().disabled).toBe(true);
  });
});
