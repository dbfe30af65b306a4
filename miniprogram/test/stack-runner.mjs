// Runs the product stack for the mini-program's end-to-end test (see node-bridge.js):
//   node --import tsx stack-runner.mjs '{"dataDir": "...", "env": {...}}'
// prints `READY <url>` once listening and closes on SIGTERM or when its parent goes away.
const { dataDir, env } = JSON.parse(process.argv[2] ?? '{}');
const mod = await import('../../scripts/local-stack.ts');
const startProductStack = mod.startProductStack ?? mod.default?.startProductStack;
const stack = await startProductStack({ port: 0, dataDir, env, log: () => {} });
process.stdout.write(`READY ${stack.url}\n`);

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  try {
    await stack.close();
  } finally {
    process.exit(0);
  }
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// An orphan (the test runner died) closes itself.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    void stop();
  }
}, 2000).unref();
