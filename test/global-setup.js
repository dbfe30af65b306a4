// Builds the function bundles once before any test that runs them on the local stack (a stale
// dist/ would test yesterday's code). `npm run test:unit` selects only projects that run the code
// in process, so it skips the build.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const IN_PROCESS_ONLY = new Set(['unit', 'miniprogram']);

module.exports = async (globalConfig) => {
  const selected = globalConfig.selectProjects;
  if (
    Array.isArray(selected) &&
    selected.length > 0 &&
    selected.every((p) => IN_PROCESS_ONLY.has(p))
  ) {
    return;
  }
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'build.mjs'), 'functions'], {
    stdio: 'ignore',
  });
};
