// Fails with a clear message when Node.js is older than the build needs.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(
    `Node.js >= 20.19 is required (the Rspack bundler needs it); found ${process.versions.node}.`
  );
  process.exit(1);
}
