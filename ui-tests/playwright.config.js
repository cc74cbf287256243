/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium.
 *
 * Playwright cannot download browsers here, so the system Chromium is used, without
 * video (which would need a downloaded ffmpeg) and without background networking.
 *
 * Two projects, each with a server of its own: `local` runs every spec against a server
 * whose kernels are its own processes; `gateway` runs the specs that follow a kernel's
 * traffic most closely against a server whose kernels live behind a Kernel Gateway.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

/**
 * The port of the server whose kernels run behind a Kernel Gateway.
 */
const GATEWAY_LAB_PORT = 8890;

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
      name: 'local'
    },
    {
      name: 'gateway',
      testMatch: ['kernel-state.spec.ts', 'execution.spec.ts'],
      use: {
        baseURL: `http://localhost:${GATEWAY_LAB_PORT}`,
        kernelHost: 'gateway'
      }
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
    }
  ]
};
