/**
 * `npm run smoke -- --local`: the operator's check, run as its main runs it, against one local
 * stack shared by the file (the sweeper running every second, so a smoke task that could be
 * notified or swept would be). The Coze editor's test run is played by starting a run on the
 * stand-in with the printed inputs, as the editor would post them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEDGERS_COLLECTION } from '../shared/ledger';
import { TASKS_COLLECTION } from '../shared/task';
import { initCloud, type CloudInitOverrides } from '../cloudfunctions/_adapters/cloud';
import { sdkInitOptions } from '../emulator/client';
import { startProductStack, type ProductStack } from './local-stack';
import { TaskStatus } from '../shared/status';
import { newTask, type TaskDoc } from '../shared/task';
import { HopFailure, SMOKE_OWNER, awaitCallback, checkSecret } from './smoke/hops';
import { main, type SmokeOptions } from './smoke/main';
import { localTarget } from './smoke/target';

let stack: ProductStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'svt-smoke-test-'));
  stack = await startProductStack({
    dataDir,
    console: false,
    timerOverrideS: 1,
    env: { COZE_STANDIN_DELAY_MS: '300' },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function smoke(argv: string[], extra: Partial<SmokeOptions> = {}) {
  const lines: string[] = [];
  const code = await main({
    argv,
    processEnv: {},
    localStack: stack,
    out: (l) => lines.push(l),
    errOut: (l) => lines.push(l),
    ...extra,
  });
  return { code, out: lines.join('\n') };
}

/** What the smoke left in the database: its owner's tasks and ledgers. */
async function leftovers() {
  const { db } = initCloud(sdkInitOptions(stack.stack.adminUrl) as CloudInitOverrides);
  const count = async (collection: string, where: object) =>
    ((await db.collection(collection).where(where).count()) as { total: number }).total;
  return {
    tasks: await count(TASKS_COLLECTION, { _openid: SMOKE_OWNER }),
    ledgers: await count(LEDGERS_COLLECTION, { _id: SMOKE_OWNER }),
  };
}

describe('npm run smoke -- --local', () => {
  it('passes every hop, sends no notice and leaves nothing behind', async () => {
    const r = await smoke(['--local']);
    expect(r.out).toContain('Smoke passed');
    expect(r.code).toBe(0);
    for (const hop of ['route', 'secret', 'task', 'token', 'start', 'callback', 'cleanup']) {
      expect(r.out).toMatch(new RegExp(`✓ ${hop} +\\d+ ms `));
    }
    expect(r.out).toContain('completed by the callback');
    expect(r.out).not.toContain(stack.env.WEBHOOK_SECRET);
    // Let the sweeper (every second here) see the smoke's end too: still nothing sent.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(stack.outbox()).toEqual([]);
    expect(await leftovers()).toEqual({ tasks: 0, ledgers: 0 });
  }, 60_000);

  it('--print-test-inputs prints the Start inputs and passes when that run calls back', async () => {
    let printed: Record<string, string> | null = null;
    const r = await smoke(['--local', '--print-test-inputs', '--wait-s', '20'], {
      // The editor's test run: a run of the published workflow with the pasted inputs.
      onTestInputs: (inputs) => {
        printed = inputs;
        void fetch(`${stack.url}/coze/v1/workflow/run`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${stack.env.COZE_API_TOKEN}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({
            workflow_id: stack.env.COZE_WORKFLOW_ID,
            parameters: inputs,
            is_async: true,
          }),
        });
      },
    });
    expect(r.out).toContain('Smoke passed');
    expect(r.code).toBe(0);
    expect(printed).not.toBeNull();
    const shown = JSON.parse(/\{[\s\S]*?\n\}/.exec(r.out)?.[0] ?? '{}') as Record<string, string>;
    expect(shown).toEqual(printed);
    expect(Object.keys(shown)).toEqual(['share_text', 'task_id', 'callback_url', 'callback_token']);
    expect(shown.callback_url).toBe(`${stack.url}/webhook/coze`);
    expect(r.out).not.toMatch(/✓ start/);
    expect(await leftovers()).toEqual({ tasks: 0, ledgers: 0 });
  }, 60_000);

  it('a run the workflow fails is named with its code and what to check, and cleaned up', async () => {
    // The stand-in fails every run whose link path contains "fail".
    const r = await smoke(['--local', '--share-text', 'https://v.douyin.com/iRNBfail/']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✗ callback .*failed VIDEO_UNAVAILABLE/);
    expect(r.out).toContain('fix: the workflow could not resolve the link');
    expect(r.out).toMatch(/✓ cleanup/);
    expect(r.out).toContain('Smoke failed');
    expect(await leftovers()).toEqual({ tasks: 0, ledgers: 0 });
  }, 60_000);

  it('callbacks that never arrive are told apart from a failed run', async () => {
    stack.standin?.configure({ callbackMode: 'drop' });
    try {
      const r = await smoke(['--local', '--wait-s', '2']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/✗ callback .*no callback in 2 s; the run is completed/);
      expect(r.out).toContain("fix: the workflow's callback never reached the webhook");
    } finally {
      stack.standin?.configure({ callbackMode: 'normal' });
    }
    expect(await leftovers()).toEqual({ tasks: 0, ledgers: 0 });
  }, 60_000);

  it('a secret the webhook does not hold is named as the thing to fix', async () => {
    const other = 'whsec_b3RoZXItc2VjcmV0LW5vdC10aGUtZGVwbG95ZWQtb25l';
    const failure = await checkSecret(localTarget(stack, { WEBHOOK_SECRET: other })).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HopFailure);
    expect((failure as HopFailure).message).toContain('401');
    expect((failure as HopFailure).fix).toContain("the deployed WEBHOOK_SECRET is not .env's");
  });
});

describe('npm run smoke (flags)', () => {
  it('the cloud run needs a share text, and --wait-s a number: usage errors, exit 2', async () => {
    for (const argv of [
      [],
      ['--share-text', 'x', '--wait-s', 'soon'],
      ['--print-test-inputs', '--share-text', 'x'],
    ]) {
      const r = await smoke(argv);
      expect(r.code).toBe(2);
      expect(r.out).toContain('usage: npm run smoke');
    }
  });

  it('without the API key it stops before any hop, naming what to set', async () => {
    const lines: string[] = [];
    const code = await main({
      argv: ['--share-text', 'https://v.douyin.com/iRNBho6u/'],
      root: mkdtempSync(join(tmpdir(), 'svt-smoke-root-')),
      processEnv: {
        ENV_ID: 'prod-7g2k9x',
        COZE_API_TOKEN: 'sat_x',
        COZE_WORKFLOW_ID: '7412345678901234567',
        WEBHOOK_URL: 'https://prod-7g2k9x.service.tcloudbase.com/webhook/coze',
        WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
      out: (l) => lines.push(l),
    });
    expect(code).toBe(1);
    expect(lines.join('\n')).toContain(
      'smoke: not started: TCB_API_KEY_ID / TCB_API_KEY are not set',
    );
    expect(lines.join('\n')).toContain('fix: set a Tencent Cloud API key');
  });
});

describe('the callback hop tells a callback from the sweeper', () => {
  const task = newTask({
    taskId: 'smoke-t1',
    openid: SMOKE_OWNER,
    platform: 'douyin',
    url: 'https://v.douyin.com/iRNBho6u/',
    shareText: 'https://v.douyin.com/iRNBho6u/',
    requestId: null,
    callbackTokenHash: 'h',
    subscribed: { success: false, failure: false },
    now: new Date(),
    queueMaxWaitS: 300,
    dueAt: new Date(),
    queue: null,
  });
  const result = { title: '标题', content: '文案', cover: '', video_url: '' };
  const processing = {
    ...task,
    status: TaskStatus.Processing,
    progress: 30,
    callback_ids: ['msg_p30'],
  };
  /** A document that reads as each of `docs` in turn, then stays at the last. */
  const watching = (docs: TaskDoc[]) => ({
    local: true,
    store: { get: async () => docs.shift() ?? null },
    coze: { getRun: async () => null },
  });
  const watch = (docs: TaskDoc[]) =>
    awaitCallback(
      watching([...docs, docs[docs.length - 1]!]),
      { task, token: 't' },
      {
        waitS: 5,
        pollMs: 1,
        onChange: () => undefined,
      },
    );

  it('a finish that brought its own delivery id came by callback', async () => {
    const done = {
      ...processing,
      status: TaskStatus.Completed,
      result,
      callback_ids: ['msg_p30', 'msg_final'],
    };
    await expect(watch([processing, done])).resolves.toMatchObject({
      value: { status: 'completed' },
    });
  });

  it('a finish with no new delivery id came from the run history: the callback is the thing to fix', async () => {
    const swept = { ...processing, status: TaskStatus.Completed, result };
    const failure = await watch([processing, swept]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HopFailure);
    expect((failure as HopFailure).message).toContain('from the run history, not by a callback');
    expect((failure as HopFailure).fix).toContain('post_callback must POST to {{callback_url}}');
  });
});
