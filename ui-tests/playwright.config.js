/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium.
 *
 * Playwright cannot download browsers here, so the system Chromium is used, without
 * video (which would need a downloaded ffmpeg) and without background networking.
 *
 * Five projects, each with a server of its own: `local` runs every spec against a server
 * whose kernels are its own processes; `gateway` runs the specs that follow a kernel's
 * traffic most closely against a server whose kernels live behind a Kernel Gateway;
 * `restart` runs the tests that restart their server; `notebook` runs the execution, input
 * and status specs, and the Notebook 7 spec, against `jupyter notebook`; `hub` runs the
 * JupyterHub spec against a Hub with collaboration accounts.
 */
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

/**
 * The port of the server whose kernels run behind a Kernel Gateway.
 */
const GATEWAY_LAB_PORT = 8890;

/**
 * The port of the server that a test restarts, and where its launcher writes its process
 * id (set here, so that the launcher and the test workers both see it).
 */
const RESTARTABLE_LAB_PORT = 8891;
process.env.UI_TESTS_RESTART_PID_FILE ??= path.join(
  os.tmpdir(),
  `jupyterlab-collab-exec-ui-tests-${RESTARTABLE_LAB_PORT}.pid`
);

/**
 * The port of the Notebook 7 server (`jupyter notebook`).
 */
const NOTEBOOK_PORT = 8892;

/**
 * The port of the JupyterHub (start_hub.py), and the file where it tells the tests that the
 * collaboration account's server is ready.
 */
const HUB_PORT = 8893;
process.env.UI_TESTS_HUB_STATE_FILE ??= path.join(
  os.tmpdir(),
  `jupyterlab-collab-exec-ui-tests-hub-${HUB_PORT}.json`
);

/**
 * Tests tagged so run against the server that can be restarted, and only there.
 */
const SERVER_RESTART = /@server-restart/;

/**
 * A server that Playwright starts for the tests and waits for at `url`. A launcher given
 * `stopSeconds` is told to stop with SIGTERM and given that long.
 */
function webServer(command, url, env = {}, stopSeconds = undefined) {
  return {
    command,
    url,
    env,
    timeout: 120 * 1000,
    ...(stopSeconds
      ? { gracefulShutdown: { signal: 'SIGTERM', timeout: stopSeconds * 1000 } }
      : {}),
    reuseExistingServer: !process.env.CI
  };
}

const chromiumArgs = [
  '--headless=new',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
];
if (typeof process.getuid === 'function' && process.getuid() === 0) {
  chromiumArgs.push('--no-sandbox');
}

module.exports = {
  ...baseConfig,
  // Global awareness leaks between parallel collaboration tests.
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 120 * 1000,
  // The JSON report gives scripts/test-layers.sh the counts, flaky tests among them.
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: chromiumArgs
    }
  },
  projects: [
    {
      name: 'local',
      testIgnore: ['notebook7.spec.ts', 'hub.spec.ts'],
      grepInvert: SERVER_RESTART
    },
    {
      name: 'gateway',
      testMatch: [
        'kernel-state.spec.ts',
        'execution.spec.ts',
        // What the server's widget mirror gives browsers: typed values, keeping up.
        'widget-values.spec.ts'
      ],
      use: {
        baseURL: `http://localhost:${GATEWAY_LAB_PORT}`,
        kernelHost: 'gateway'
      },
      grepInvert: SERVER_RESTART
    },
    {
      name: 'restart',
      grep: SERVER_RESTART,
      use: { baseURL: `http://localhost:${RESTARTABLE_LAB_PORT}` }
    },
    {
      // The same specs in Notebook 7, at /notebooks/<path>, and JupyterLab next to it.
      name: 'notebook',
      testMatch: [
        'execution.spec.ts',
        'input.spec.ts',
        'status.spec.ts',
        'notebook7.spec.ts'
      ],
      grepInvert: SERVER_RESTART,
      use: {
        baseURL: `http://localhost:${NOTEBOOK_PORT}`,
        appPath: '',
        ui: 'notebook'
      }
    },
    {
      // JupyterHub with collaboration accounts, at /user/collab/.
      name: 'hub',
      testMatch: ['hub.spec.ts'],
      use: { baseURL: `http://127.0.0.1:${HUB_PORT}` }
    }
  ],
  webServer: [
    webServer('jlpm start', 'http://localhost:8888/lab'),
    // The launchers below stop what they started by its process id when told to stop.
    webServer(
      'jlpm start:gateway',
      `http://localhost:${GATEWAY_LAB_PORT}/lab`,
      { UI_TESTS_GATEWAY_LAB_PORT: String(GATEWAY_LAB_PORT) },
      30
    ),
    webServer(
      'jlpm start:hub',
      `http://127.0.0.1:${HUB_PORT}/hub/api/`,
      { UI_TESTS_HUB_PORT: String(HUB_PORT) },
      60
    ),
    webServer(
      `jlpm start:notebook --ServerApp.port=${NOTEBOOK_PORT}`,
      `http://localhost:${NOTEBOOK_PORT}/tree`
    ),
    // start_restartable_lab.py restarts JupyterLab on SIGUSR1.
    webServer(
      'jlpm start:restartable',
      `http://localhost:${RESTARTABLE_LAB_PORT}/lab`,
      { UI_TESTS_RESTART_LAB_PORT: String(RESTARTABLE_LAB_PORT) },
      30
    )
  ]
};
