/**
 * `npm run smoke`: the operator's end-to-end check of a deployment, hop by hop, each printed with
 * its time and, when it fails, the one thing to fix. `--local` runs the same hops against the
 * local stack; `--print-test-inputs` prints the Start inputs to paste into the Coze editor's test
 * run and waits for that run's callback. What the smoke writes and why it reaches nobody:
 * scripts/smoke/hops.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_INPUTS, type StartParameters } from '../../shared/coze-workflow';
import { readCommandLine } from '../cli';
import { ROOT } from '../deploy/facts';
import { redact } from '../deploy/redact';
import { startProductStack, type ProductStack } from '../local-stack';
import {
  HopFailure,
  awaitCallback,
  checkRoute,
  checkSecret,
  checkToken,
  createSmokeTask,
  removeSmokeTask,
  startRun,
  type HopResult,
  type SmokeTask,
} from './hops';
import { TargetError, cloudTarget, localTarget, type SmokeTarget } from './target';

const SMOKE_USAGE = `usage: npm run smoke -- --share-text "<share text>" [--wait-s N]
       npm run smoke -- --print-test-inputs [--wait-s N]
       npm run smoke -- --local [--print-test-inputs]
  checks the deployment of .env: the webhook route (401 unsigned), the secret (404 for a signed
  call about no task), then one smoke task through the real Coze workflow: its run starts, its
  callback arrives and completes it. The task belongs to no user, accepts no notice, and is removed.
  --share-text T        a public video's share text (Douyin, Kuaishou, Xiaohongshu, Bilibili)
  --print-test-inputs   no run from here: print the Start inputs for the Coze editor's test run
                        (试运行) and wait for that run's callback
  --wait-s N            how long to wait for the callback (default TASK_TIMEOUT_S + 60; 600 with
                        --print-test-inputs; 30 with --local)
  --local               the same hops against the local stack and its Coze stand-in
  -h, --help            this text
  exit 0 every hop passed; 1 a hop failed (the fix is printed); 2 bad flags`;

const SMOKE_COMMAND = {
  name: 'npm run smoke',
  usage: SMOKE_USAGE,
  options: {
    'share-text': { type: 'string' },
    'print-test-inputs': { type: 'boolean' },
    'wait-s': { type: 'string' },
    local: { type: 'boolean' },
  },
  allowPositionals: false,
} as const;

/** The share text --local uses when none is given (the stand-in simulates its run). */
const LOCAL_SHARE_TEXT =
  '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/';

export interface SmokeOptions {
  argv: string[];
  processEnv: Record<string, string | undefined>;
  root?: string;
  out?: (line: string) => void;
  errOut?: (line: string) => void;
  /** --local: this running stack instead of a new one (tests share theirs) */
  localStack?: ProductStack;
  /** --print-test-inputs: called with the inputs once printed (tests play the editor here) */
  onTestInputs?: (inputs: StartParameters) => void;
}

interface Flags {
  shareText?: string;
  testInputs: boolean;
  waitS?: number;
  local: boolean;
}

function readFlags(argv: string[]): { flags?: Flags; code?: number; text?: string } {
  const line = readCommandLine(SMOKE_COMMAND, argv);
  if (!line.run) return { code: line.code, text: line.stdout || line.stderr };
  const v = line.values;
  const problem = (p: string) => ({ code: 2, text: `npm run smoke: ${p}\n${SMOKE_USAGE}\n` });
  let waitS: number | undefined;
  if (v['wait-s'] !== undefined) {
    if (!/^\d+$/.test(v['wait-s']) || Number(v['wait-s']) < 1) {
      return problem('--wait-s must be a whole number of seconds');
    }
    waitS = Number(v['wait-s']);
  }
  const testInputs = v['print-test-inputs'] ?? false;
  const local = v.local ?? false;
  if (testInputs && v['share-text'] !== undefined) {
    return problem('--print-test-inputs takes no --share-text: the editor sends its own');
  }
  if (!testInputs && !local && v['share-text'] === undefined) {
    return problem('--share-text is required: the share text of a public video with speech');
  }
  return {
    flags: {
      testInputs,
      local,
      ...(v['share-text'] !== undefined ? { shareText: v['share-text'] } : {}),
      ...(waitS !== undefined ? { waitS } : {}),
    },
  };
}

export async function main(opts: SmokeOptions): Promise<number> {
  const out = opts.out ?? ((l: string) => console.log(l));
  const errOut = opts.errOut ?? ((l: string) => console.error(l));
  const read = readFlags(opts.argv);
  if (!read.flags) {
    const text = (read.text ?? '').trimEnd();
    (read.code === 0 ? out : errOut)(text);
    return read.code ?? 2;
  }
  const flags = read.flags;

  // The local stack the smoke starts for itself, stopped at the end.
  let own: { stack: ProductStack; dataDir: string } | null = null;
  let target: SmokeTarget;
  try {
    if (flags.local) {
      let stack = opts.localStack;
      if (!stack) {
        const dataDir = mkdtempSync(join(tmpdir(), 'svt-smoke-'));
        stack = await startProductStack({ dataDir, console: false });
        own = { stack, dataDir };
      }
      target = localTarget(stack);
    } else {
      target = cloudTarget(opts.root ?? ROOT, opts.processEnv);
    }
  } catch (e) {
    if (!(e instanceof TargetError)) throw e;
    out(`smoke: not started: ${e.message}`);
    out(`  fix: ${e.fix}`);
    return 1;
  }

  const printer = hopPrinter(out, target.secrets);
  out(`smoke: ${target.label}`);
  const started = Date.now();
  let smokeTask: SmokeTask | null = null;
  let passed = false;
  try {
    await printer.hop('route', () => checkRoute(target));
    await printer.hop('secret', () => checkSecret(target));
    const waitS =
      flags.waitS ??
      (flags.testInputs ? 600 : flags.local ? 30 : target.config.TASK_TIMEOUT_S + 60);
    const t = await printer.hop('task', () =>
      createSmokeTask(target, flags.shareText ?? LOCAL_SHARE_TEXT, {
        testInputs: flags.testInputs,
        waitS,
      }),
    );
    smokeTask = t;
    await printer.hop('token', () => checkToken(target, t));
    if (flags.testInputs) {
      const inputs: StartParameters = {
        share_text: t.task.input_url,
        task_id: t.task._id,
        callback_url: target.config.WEBHOOK_URL,
        callback_token: t.token,
      };
      out('');
      out('Paste these Start inputs into the Coze editor (试运行), with share_text replaced by');
      out(`the link of a public video if you like; waiting ${waitS} s for the run's callback:`);
      out(JSON.stringify(Object.fromEntries(START_INPUTS.map((k) => [k, inputs[k]])), null, 2));
      out('');
      opts.onTestInputs?.(inputs);
    } else {
      await printer.hop('start', () => startRun(target, t));
    }
    await printer.hop('callback', () =>
      awaitCallback(target, t, {
        waitS,
        pollMs: flags.local ? 100 : 1000,
        onChange: (line) => printer.note(line),
      }),
    );
    passed = true;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  } finally {
    const t = smokeTask;
    if (t) await printer.hop('cleanup', () => removeSmokeTask(target, t)).catch(() => undefined);
    if (own) {
      await own.stack.close();
      rmSync(own.dataDir, { recursive: true, force: true });
    }
  }
  const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
  out(passed ? `Smoke passed in ${took}.` : `Smoke failed after ${took}: fix what is named above.`);
  return passed ? 0 : 1;
}

/** Thrown once a hop failed and was printed: the remaining hops do not run. */
class Stop extends Error {}

function hopPrinter(out: (line: string) => void, secrets: Record<string, string | undefined>) {
  const clean = (text: string) => redact(text, secrets);
  return {
    async hop<T>(name: string, run: () => Promise<HopResult<T>>): Promise<T> {
      const t0 = Date.now();
      const ms = () => `${Date.now() - t0} ms`.padStart(8);
      try {
        const r = await run();
        out(`  ✓ ${name.padEnd(9)}${ms()}  ${clean(r.detail)}`);
        return r.value;
      } catch (e) {
        if (!(e instanceof HopFailure)) {
          out(`  ✗ ${name.padEnd(9)}${ms()}  ${clean(e instanceof Error ? e.message : String(e))}`);
          throw new Stop();
        }
        out(`  ✗ ${name.padEnd(9)}${ms()}  ${clean(e.message)}`);
        out(`      fix: ${clean(e.fix)}`);
        throw new Stop();
      }
    },
    note(line: string) {
      out(`      ${clean(line)}`);
    },
  };
}
