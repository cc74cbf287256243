/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium.
 *
 * Playwright cannot download browsers here, so the system Chromium is used, without
 * video (which would need a downloaded ffmpeg) and without background networking.
 *
 * Three projects, each with a server of its own: `local` runs every spec against a server
 * whose kernels are its own processes; `gateway` runs the specs that follow a kernel's
 * traffic most closely against a server whose kernels live behind a Kernel Gateway;
 * `restart` runs the tests that restart their server.
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
 * Tests tagged so run against the server that can be restarted, and only there.
 */
const SERVER_RESTART = /@server-restart/;

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
  reporter: [['list']],
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
      grepInvert: SERVER_RESTART
    },
    {
      name: 'gateway',
      testMatch: ['kernel-state.spec.ts', 'execution.spec.ts'],
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
    }
  ],
  webServer: [
    {
      command: 'jlpm start',
      url: 'http://localhost:8888/lab',
      timeout: 120 * 1000,
      reuseExistingServer: !process.env.CI
    },
    {
      // start_gateway_lab.py stops the gateway by its process id when it is told to stop.
      command: 'jlpm start:gateway',
      url: `http://localhost:${GATEWAY_LAB_PORT}/lab`,
      env: { UI_TESTS_GATEWAY_LAB_PORT: String(GATEWAY_LAB_PORT) },
      timeout: 120 * 1000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 30 * 1000 },
      reuseExistingServer: !process.env.CI
    },
    {
      // start_restartable_lab.py restarts JupyterLab on SIGUSR1.
      command: 'jlpm start:restartable',
      url: `http://localhost:${RESTARTABLE_LAB_PORT}/lab`,
      env: { UI_TESTS_RESTART_LAB_PORT: String(RESTARTABLE_LAB_PORT) },
      timeout: 120 * 1000,
      gracefulShutdown: { signal: 'SIGTERM', timeout: 30 * 1000 },
      reuseExistingServer: !process.env.CI
    }
  ]
};
