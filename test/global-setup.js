// Builds the function bundles once before any test: end-to-end tests run them on the local stack,
// and a stale dist/ would test yesterday's code.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'build.mjs'), 'functions'], {
    stdio: 'ignore',
  });
};
