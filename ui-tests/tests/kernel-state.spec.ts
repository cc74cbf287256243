/**
 * The kernel state in the notebook toolbar, seen by two users during a long cell whose
 * progress bar is an ipywidget (tqdm): Busy in both views for the whole run, Idle after.
 *
 * While the cell runs, the browsers talk to the kernel too: kernel_info when they connect,
 * and their widget managers' comm messages. The kernel reports busy and idle for each of
 * those, and the state the server mirrors into the doc must not follow them. The
 * `gateway` project runs this spec with the kernel behind a Kernel Gateway.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { NotebookPanel } from '@jupyterlab/notebook';
import type { Locator } from '@playwright/test';

import { expect, test } from './fixtures';
import {
  cellLocator,
  expectBadgeStatus,
  kernelStateLocator,
  outputLocator,
  RUN_TIMEOUT,
  runCell,
  sessionOf
} from './helpers';

const STEPS = 48;

/**
 * About 12 s of tqdm.auto, which shows its progress as a widget in a notebook; the kernel
 * says first where it runs, as the server that started it set in its environment.
 */
const TQDM_RUN = [
  'import os, time',
  'from tqdm.auto import tqdm',
  "print('kernel host:', os.environ.get('UI_TESTS_KERNEL_HOST', 'local'))",
  `for _ in tqdm(range(${STEPS})):`,
  '    time.sleep(0.25)'
].join('\n');

/**
 * How often both views are sampled while the cell runs.
 */
const SAMPLE_INTERVAL = 250;

/**
 * How long the run may last on a loaded machine before the sampling gives up.
 */
const RUN_DEADLINE = 120000;

const FINAL_STATUSES = ['ok', 'error', 'cancelled', 'interrupted'];

/**
 * What one view shows at one moment, read at once from its DOM and its copy of the doc.
 */
interface IViewSample {
  /**
   * Milliseconds since the cell was run.
   */
  at: number;
  /**
   * The toolbar's kernel state.
   */
  toolbar: string;
  /**
   * The status of the cell's request in this view's copy of the doc.
   */
  request: string | null;
  /**
   * The widget's progress bar, once it is rendered: its fill in percent, and whether
   * tqdm marked it finished.
   */
  bar: { visible: boolean; percent: number; finished: boolean } | null;
  /**
   * JupyterLab's own kernel status in the status bar; shown in the report, not asserted.
   */
  statusBar: string;
  /**
   * The start of the cell's output as shown; for the report.
   */
  output: string;
}

function isFinal(request: string | null): boolean {
  return request !== null && FINAL_STATUSES.includes(request);
}

function progressLocator(page: IJupyterLabPageFixture): Locator {
  return cellLocator(page, 0).locator('.widget-hprogress');
}

async function sampleView(
  page: IJupyterLabPageFixture,
  since: number
): Promise<IViewSample> {
  const shown = await page.evaluate(() => {
    const panel = window.galata.app.shell.currentWidget as NotebookPanel;
    const node = panel.node;
    const toolbar =
      node.querySelector('.jp-NotebookPanel-toolbar .jp-CollabExec-kernelState')
        ?.textContent ?? '';
    const shared = panel.content.model?.sharedModel as unknown as {
      ydoc: { getMap: (name: string) => { get: (key: string) => unknown } };
    };
    const requests = (
      shared.ydoc.getMap('collab_exec').get('requests') as
        | {
            toJSON: () => Record<string, { cell_id?: string; status?: string }>;
          }
        | undefined
    )?.toJSON();
    const request =
      Object.values(requests ?? {}).find(entry => entry.cell_id === 'cell-0')
        ?.status ?? null;
    const progress = node.querySelector<HTMLElement>(
      '.jp-Cell .widget-hprogress'
    );
    const fill = progress?.querySelector<HTMLElement>('.progress-bar');
    const bar =
      progress && fill
        ? {
            visible:
              progress.checkVisibility() &&
              progress.getBoundingClientRect().width > 0,
            percent: parseFloat(fill.style.width) || 0,
            finished: fill.classList.contains('progress-bar-success')
          }
        : null;
    const statusText =
      document.querySelector('#jp-main-statusbar')?.textContent ?? '';
    const statusBar =
      /\|\s*(Idle|Busy|Starting|Restarting|Reconnecting|Connecting|Initializing|Unknown|Dead|Terminating|Disconnected)/.exec(
        statusText
      )?.[1] ?? '';
    const output = (
      node.querySelector<HTMLElement>('.jp-Cell .jp-OutputArea')?.innerText ??
      ''
    )
      .replace(/\s+/g, ' ')
      .slice(0, 120);
    return { toolbar, request, bar, statusBar, output };
  });
  return { at: Date.now() - since, ...shown };
}

/**
 * Runs of equal toolbar text, for the report: `Idle ×2 (0–310 ms), Busy ×47 (…)`.
 */
function summarize(samples: IViewSample[]): string {
  const runs: string[] = [];
  let start = 0;
  for (let i = 1; i <= samples.length; i++) {
    if (i === samples.length || samples[i].toolbar !== samples[start].toolbar) {
      runs.push(
        `${samples[start].toolbar || '(none)'} ×${i - start} (${samples[start].at}–${samples[i - 1].at} ms)`
      );
      start = i;
    }
  }
  return runs.join(', ');
}

// Each browser context is its own user on the server.
test.use({ mockUser: false });

test.describe('The kernel state in the toolbar', () => {
  test('stays Busy in both views while a tqdm widget cell runs, and is Idle after it', async ({
    page,
    collab,
    kernelHost
  }) => {
    test.setTimeout(240000);
    // A notebook its users saved: trusted, so that the widget renders in both views.
    const { other: guest } = await collab.openForTwo('tqdm.ipynb', [TQDM_RUN], {
      trusted: true
    });
    const views = { A: page, B: guest };

    const since = Date.now();
    await runCell(page, 0);

    // Sample both views until both copies of the doc hold the request's end.
    const samples: Record<keyof typeof views, IViewSample[]> = { A: [], B: [] };
    const sampling = (async () => {
      const deadline = since + RUN_DEADLINE;
      for (;;) {
        const [a, b] = await Promise.all([
          sampleView(page, since),
          sampleView(guest, since)
        ]);
        samples.A.push(a);
        samples.B.push(b);
        if (isFinal(a.request) && isFinal(b.request)) {
          return;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `The cell did not end within ${RUN_DEADLINE} ms: ${a.request}, ${b.request}`
          );
        }
        // The sampling interval, not a wait for a condition.
        await page.waitForTimeout(SAMPLE_INTERVAL);
      }
    })();
    // The widget renders in both views, each through its own widget manager.
    const rendered = Promise.all(
      Object.values(views).map(view =>
        expect(progressLocator(view)).toBeVisible({ timeout: RUN_TIMEOUT })
      )
    );
    const [sampled, shown] = await Promise.allSettled([sampling, rendered]);

    await test.info().attach('kernel-state-samples', {
      body: JSON.stringify(
        {
          summary: {
            A: summarize(samples.A),
            B: summarize(samples.B)
          },
          samples
        },
        null,
        1
      ),
      contentType: 'application/json'
    });
    for (const result of [sampled, shown]) {
      if (result.status === 'rejected') {
        throw result.reason;
      }
    }

    for (const [name, list] of Object.entries(samples)) {
      const running = list.filter(sample => !isFinal(sample.request));
      const firstBusy = running.findIndex(sample => sample.toolbar === 'Busy');
      expect(
        firstBusy,
        `view ${name} shows Busy before the cell ends: ${summarize(list)}`
      ).toBeGreaterThanOrEqual(0);
      // From the moment it shows Busy until its doc holds the end of the request. The
      // server writes a run's Busy at once, but the first samples may be taken before the
      // request reached the doc; the progress bar, which needs the kernel to have
      // imported tqdm and ipywidgets, bounds that below.
      expect(
        running.slice(firstBusy).filter(sample => sample.toolbar !== 'Busy'),
        `view ${name} stays Busy while the cell runs: ${summarize(list)}`
      ).toEqual([]);
      // The progress bar was live in this view while the cell ran, and never beside Idle.
      const withBar = running.filter(
        sample => sample.bar?.visible && !sample.bar.finished
      );
      expect(
        withBar.length,
        `view ${name} shows the progress bar while the cell runs`
      ).toBeGreaterThan(0);
      expect(
        new Set(withBar.map(sample => sample.bar?.percent)).size,
        `the progress bar moves in view ${name}`
      ).toBeGreaterThan(1);
      expect(
        withBar.filter(sample => sample.toolbar !== 'Busy'),
        `view ${name} shows Busy beside the running progress bar`
      ).toEqual([]);
    }

    for (const view of Object.values(views)) {
      await expectBadgeStatus(view, 0, 'ok');
      await expect(kernelStateLocator(view)).toHaveText('Idle', {
        timeout: RUN_TIMEOUT
      });
      await expect(progressLocator(view)).toBeVisible();
      await expect(progressLocator(view).locator('.progress-bar')).toHaveClass(
        /progress-bar-success/,
        { timeout: RUN_TIMEOUT }
      );
      await expect(outputLocator(view, 0)).toContainText(
        `kernel host: ${kernelHost}`
      );
    }
  });

  test("shows the state of the view's kernel, never the record of an earlier one", async ({
    page,
    collab,
    request
  }) => {
    test.setTimeout(120000);
    const path = await collab.open('toolbar-truth.ipynb', ['1 + 1']);
    // No cell has run: the doc has no record yet, and the toolbar says what the status
    // bar says.
    await expect(kernelStateLocator(page)).toHaveText('Idle', {
      timeout: RUN_TIMEOUT
    });
    await runCell(page, 0);
    await expectBadgeStatus(page, 0, 'ok');
    const session = await sessionOf(request, path);
    expect((await request.delete(`/api/sessions/${session.id}`)).ok()).toBe(
      true
    );
    // The doc records the kernel dead; B's view gets a new kernel from JupyterLab.
    await expect(kernelStateLocator(page)).toHaveText('Dead', {
      timeout: RUN_TIMEOUT
    });
    const guest = await collab.otherUser(path);
    await expect(kernelStateLocator(guest)).toHaveText('Idle', {
      timeout: RUN_TIMEOUT
    });
    // B runs the cell on the new kernel: the doc's record is of that kernel now.
    await runCell(guest, 0);
    await expectBadgeStatus(guest, 0, 'ok');
    await expect(kernelStateLocator(guest)).toHaveText('Idle');
    expect((await sessionOf(request, path)).kernel.id).not.toBe(
      session.kernel.id
    );
  });
});
