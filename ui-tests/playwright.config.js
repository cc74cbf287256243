/**
 * Playwright configuration: Galata's defaults, run in Debian's Chromium.
 *
 * Playwright cannot download browsers here, so the system Chromium is used, without
 * video (which would need a downloaded ffmpeg) and without background networking.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

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
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 120 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
