import { ServerConnection } from '@jupyterlab/services';

import {
  BOB,
  DOCUMENT_ID,
  endpointUrl,
  KERNEL_ID,
  stubClient
} from '../helpers';

describe('CollabExecClient.info', () => {
  it('reads the version and the features, once for every caller', async () => {
    const { client: api, sent } = stubClient({
      status: 200,
      body: { version: '0.1.0', features: ['execute', 7, 'cancel'] }
    });
    const info = { version: '0.1.0', features: ['execute', 'cancel'] };
    await expect(api.info()).resolves.toEqual(info);
    await expect(api.info()).resolves.toEqual(info);
    expect(sent).toEqual([
      {
        url: expect.stringMatching(endpointUrl('')),
        method: 'GET',
        body: undefined
      }
    ]);
  });

  it.each<[string, { status: number; body: unknown }]>([
    [
      'a server without the extension',
      { status: 404, body: { message: 'Not found' } }
    ],
    ['a malformed answer', { status: 200, body: { version: 1, features: [] } }]
  ])('is null for %s', async (_label, answer) => {
    await expect(stubClient(answer).client.info()).resolves.toBeNull();
  });
});

describe('CollabExecClient.execute', () => {
  const body = {
    document_id: DOCUMENT_ID,
    kernel_id: KERNEL_ID,
    cells: [{ cell_id: 'c1', source: 'x = 1' }],
    record_timing: false
  };

  it('posts the cells and resolves with the accepted requests', async () => {
    const accepted = [{ request_id: 'r1', cell_id: 'c1' }];
    const { client: api, sent } = stubClient({
      status: 202,
      body: { requests: accepted }
    });
    await expect(api.execute(body)).resolves.toEqual(accepted);
    expect(sent).toEqual([
      {
        url: expect.stringMatching(endpointUrl('execute')),
        method: 'POST',
        body
      }
    ]);
  });

  it.each<[string, { status: number; body: unknown }, number, string]>([
    [
      'an error status',
      { status: 409, body: { message: 'Busy' } },
      409,
      'Busy'
    ],
    [
      'an answer without requests',
      { status: 202, body: {} },
      202,
      'Malformed answer from the server: no requests.'
    ]
  ])('rejects %s', async (_label, answer, status, message) => {
    const error = await stubClient(answer)
      .client.execute(body)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ServerConnection.ResponseError).response.status).toBe(
      status
    );
    expect((error as ServerConnection.ResponseError).message).toBe(message);
  });
});

describe('CollabExecClient.cancel', () => {
  it('posts the document id, and the request ids only when given', async () => {
    const { client: api, sent } = stubClient({
      status: 200,
      body: { cancelled: ['r1', 'r2'] }
    });
    await expect(api.cancel(DOCUMENT_ID)).resolves.toEqual(['r1', 'r2']);
    await api.cancel(DOCUMENT_ID, ['r1']);
    const url = endpointUrl('cancel');
    expect(sent).toEqual([
      {
        url: expect.stringMatching(url),
        method: 'POST',
        body: { document_id: DOCUMENT_ID }
      },
      {
        url: expect.stringMatching(url),
        method: 'POST',
        body: { document_id: DOCUMENT_ID, request_ids: ['r1'] }
      }
    ]);
  });

  it("rejects with the server's message", async () => {
    const { client: api } = stubClient({
      status: 404,
      body: { message: 'Unknown document' }
    });
    const error = await api.cancel(DOCUMENT_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ServerConnection.ResponseError).message).toBe(
      'Unknown document'
    );
    expect((error as ServerConnection.ResponseError).response.status).toBe(404);
  });
});

describe('CollabExecClient.answerInput', () => {
  it('posts the document, the input and the value', async () => {
    const { client: api, sent } = stubClient({
      status: 200,
      body: { status: 'answered' }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'Ada')).resolves.toEqual({
      ok: true
    });
    expect(sent).toEqual([
      {
        url: expect.stringMatching(endpointUrl('input')),
        method: 'POST',
        body: { document_id: DOCUMENT_ID, input_id: 'i1', value: 'Ada' }
      }
    ]);
  });

  it('resolves a conflict with who answered', async () => {
    const { client: api } = stubClient({
      status: 409,
      body: {
        message: 'This input was already answered.',
        status: 'answered',
        answered_by: BOB
      }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'x')).resolves.toEqual({
      ok: false,
      status: 'answered',
      answeredBy: BOB,
      message: 'This input was already answered.'
    });
  });

  it('resolves a cancelled input', async () => {
    const { client: api } = stubClient({
      status: 409,
      body: { message: 'This input was cancelled.', status: 'cancelled' }
    });
    await expect(api.answerInput(DOCUMENT_ID, 'i1', 'x')).resolves.toEqual({
      ok: false,
      status: 'cancelled',
      answeredBy: null,
      message: 'This input was cancelled.'
    });
  });

  it.each<[number, unknown]>([
    [404, { message: 'Unknown input' }],
    [400, { message: "'value' must be a string." }],
    [409, { message: 'Conflict of another kind', status: 'queued' }]
  ])("rejects a %p with the server's message", async (status, body) => {
    const { client: api } = stubClient({ status, body });
    const error = await api
      .answerInput(DOCUMENT_ID, 'i1', 'x')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as ServerConnection.ResponseError).response.status).toBe(
      status
    );
    expect((error as ServerConnection.ResponseError).message).toBe(
      (body as { message: string }).message
    );
  });
});

describe('CollabExecClient.verifyTrust', () => {
  const question = {
    document_id: DOCUMENT_ID,
    cells: [{ cell_id: 'c1', outputs: ['a'.repeat(64)] }],
    widget_models: { m1: 'b'.repeat(64) },
    widget_state: 'c'.repeat(64)
  };

  it('posts the digests and reads the verdicts, refusing what it cannot read', async () => {
    const { client: api, sent } = stubClient({
      status: 200,
      body: {
        cells: { c1: 'trusted', c2: 'unknown', c3: 'maybe' },
        widget_models: { m1: true, m2: 'yes' },
        widget_state: true
      }
    });
    await expect(api.verifyTrust(question)).resolves.toEqual({
      cells: { c1: 'trusted', c2: 'unknown', c3: 'untrusted' },
      widget_models: { m1: true, m2: false },
      widget_state: true
    });
    expect(sent).toEqual([
      {
        url: expect.stringMatching(endpointUrl('trust')),
        method: 'POST',
        body: question
      }
    ]);
  });

  it("rejects with the server's message", async () => {
    const { client: api } = stubClient({
      status: 404,
      body: { message: 'Unknown document' }
    });
    await expect(api.verifyTrust(question)).rejects.toThrow('Unknown document');
  });
});

describe('CollabExecClient history', () => {
  const run = {
    run_id: 'r1',
    cell_id: 'c1',
    source: 'print(1)',
    execution_count: 1,
    status: 'ok',
    reason: null,
    submitted_by: BOB,
    submitted_at: 1,
    started_at: 2,
    finished_at: 3,
    output_count: 1,
    inputs: [],
    kind: 'run'
  };

  it('lists runs with the query given, and reads the page', async () => {
    const { client: api, sent } = stubClient({
      status: 200,
      body: { runs: [run], next: 'r1' }
    });
    const page = await api.history({
      documentId: DOCUMENT_ID,
      cellId: 'c1',
      submittedBy: 'bob',
      before: 'r9',
      limit: 20
    });
    expect(page.runs.map(listed => listed.run_id)).toEqual(['r1']);
    expect(page.next).toBe('r1');
    const url = new URL(sent[0].url);
    expect(url.pathname).toBe('/api/collab-exec/history');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      document_id: DOCUMENT_ID,
      cell_id: 'c1',
      submitted_by: 'bob',
      before: 'r9',
      limit: '20'
    });
  });

  it('reads one run by its id, with its outputs', async () => {
    const outputs = [{ output_type: 'stream', name: 'stdout', text: '1\n' }];
    const { client: api, sent } = stubClient({
      status: 200,
      body: { ...run, outputs }
    });
    const detail = await api.historyRun(DOCUMENT_ID, 'r/1');
    expect(detail.outputs).toEqual(outputs);
    expect(new URL(sent[0].url).pathname).toBe(
      '/api/collab-exec/history/r%2F1'
    );
  });

  it('posts a restore', async () => {
    const { client: api, sent } = stubClient({ status: 200, body: {} });
    await api.restoreRun(DOCUMENT_ID, 'c1', 'r1');
    expect(sent).toEqual([
      {
        url: expect.stringMatching(endpointUrl('history/restore')),
        method: 'POST',
        body: { document_id: DOCUMENT_ID, cell_id: 'c1', run_id: 'r1' }
      }
    ]);
  });

  it.each<[string, () => Promise<unknown>, string]>([
    [
      'a refused restore',
      () =>
        stubClient({
          status: 409,
          body: { message: 'The cell has a request queued or running.' }
        }).client.restoreRun(DOCUMENT_ID, 'c1', 'r1'),
      'The cell has a request queued or running.'
    ],
    [
      'an unreadable history',
      () =>
        stubClient({
          status: 503,
          body: { message: 'The run history cannot be read.' }
        }).client.history({ documentId: DOCUMENT_ID }),
      'The run history cannot be read.'
    ],
    [
      'a malformed page',
      () =>
        stubClient({ status: 200, body: { next: null } }).client.history({
          documentId: DOCUMENT_ID
        }),
      'Malformed answer from the server: no runs.'
    ]
  ])('rejects %s with the message', async (_label, call, message) => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect((error as Error).message).toBe(message);
  });
});
