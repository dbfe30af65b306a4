/**
 * In-process backend for tests: the emulator (the cloud in tests) reached by the real
 * wx-server-sdk, the functions' handlers wired with a clock the test moves, and a scripted Coze
 * for the cases the stand-in cannot force (a start that hangs, a history that lies).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedHeaders } from '../../shared/signing';
import { loadConfig } from '../../shared/config';
import type { WorkflowFailureCode } from '../../shared/errors';
import type { TaskResult } from '../../shared/result';
import type { RunEnd, StartRunInput } from '../../shared/coze-workflow';
import { CozeError } from '../../cloudfunctions/_adapters/coze';
import { initCloud, type CloudInitOverrides } from '../../cloudfunctions/_adapters/cloud';
import type { FunctionDeps } from '../../cloudfunctions/_adapters/deps';
import type { CozeClient } from '../../cloudfunctions/_adapters/coze';
import { createLogger } from '../../cloudfunctions/_adapters/log';
import {
  COLLECTIONS,
  LedgerStore,
  QueueStore,
  TaskStore,
} from '../../cloudfunctions/_adapters/database';
import { startLocalStack, type LocalStack } from '../../emulator';
import { sdkInitOptions } from '../../emulator/client';
import { LOCAL_DEFAULTS, REPO_ROOT, freePort, localTemplates } from '../../scripts/local-stack';

export const SECRET = LOCAL_DEFAULTS.WEBHOOK_SECRET;
const SDK_TIMEOUT_MS = 120_000;
export const T0 = new Date('2026-11-28T02:00:00Z');

export class Clock {
  private t: number;
  constructor(start: Date = T0) {
    this.t = start.getTime();
  }
  now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  sleep = async (ms: number): Promise<void> => {
    this.t += ms;
  };
}

/** A scripted Coze: starts answer from a queue (default: success), runs are set by the test. */
export class ScriptedCoze {
  starts: StartRunInput[] = [];
  historyReads: string[] = [];
  private startScript: (CozeError | 'ok')[] = [];
  private runs = new Map<string, RunEnd | null>();
  private n = 0;

  failNextStarts(...errors: CozeError[]): void {
    this.startScript.push(...errors);
  }
  /** How a run stands: null while it runs, else the end it made (`completedRun`, `failedRun`). */
  setRun(executeId: string, end: RunEnd | null): void {
    this.runs.set(executeId, end);
  }
  lastToken(): string {
    return this.starts[this.starts.length - 1]?.callbackToken ?? '';
  }

  async startRun(input: StartRunInput): Promise<{ executeId: string }> {
    this.starts.push(input);
    const next = this.startScript.shift();
    if (next instanceof CozeError) throw next;
    const executeId = `exec-${++this.n}`;
    this.runs.set(executeId, null);
    return { executeId };
  }
  async getRun(executeId: string): Promise<RunEnd | null> {
    this.historyReads.push(executeId);
    if (!this.runs.has(executeId))
      throw new CozeError('run_not_found', 'run not found', { retryable: false, cozeCode: 4314 });
    return this.runs.get(executeId) ?? null;
  }
}

/** The ledger a read found, or a failure naming what it found instead. */
export function ledgerDoc(read: Awaited<ReturnType<LedgerStore['read']>>) {
  if (read?.kind !== 'found')
    throw new Error(`expected a sound ledger, got ${JSON.stringify(read)}`);
  return read.doc;
}

/** A run that ended with this result, as its history reads. */
export function completedRun(result: TaskResult): RunEnd {
  return { event: { type: 'completed', result, source: 'history' }, detail: null };
}

/** A run that failed with this workflow code, as its history reads. */
export function failedRun(errorCode: WorkflowFailureCode): RunEnd {
  return { event: { type: 'failed', errorCode, source: 'history' }, detail: errorCode };
}

export const RESULT: TaskResult = {
  title: '三分钟学会做红烧肉',
  content: '大家好，今天教大家做红烧肉。😋 先把五花肉切块。',
  cover: 'https://example.invalid/cover.jpg',
  video_url: 'https://example.invalid/video.mp4',
};

export interface Backend {
  stack: LocalStack;
  clock: Clock;
  coze: ScriptedCoze;
  deps: FunctionDeps & { coze: CozeClient };
  logs: string[];
  close(): Promise<void>;
}

const TEST_ENV: Record<string, string> = {
  COZE_API_BASE: 'http://127.0.0.1:9/coze',
  COZE_API_BASE_CUSTOM: 'true',
  COZE_API_TOKEN: LOCAL_DEFAULTS.COZE_API_TOKEN,
  COZE_WORKFLOW_ID: LOCAL_DEFAULTS.COZE_WORKFLOW_ID,
  WEBHOOK_URL: 'http://127.0.0.1:9/webhook/coze',
  WEBHOOK_SECRET: SECRET,
  SUBSCRIBE_TEMPLATE_SUCCESS_ID: LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_SUCCESS_ID,
  SUBSCRIBE_TEMPLATE_FAILURE_ID: LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_FAILURE_ID,
  MINIPROGRAM_STATE: 'developer',
};

// wx-server-sdk keeps its first service address for the process (one per test file), so every
// fresh stack of a file listens on the same port, each with an empty data dir.
let port = 0;

export async function startBackend(env: Record<string, string> = {}): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'svt-backend-'));
  if (!port) port = await freePort();
  const stack = await startLocalStack({
    port,
    dataDir,
    projectDir: REPO_ROOT,
    timersEnabled: false,
    collections: [...COLLECTIONS],
    templates: localTemplates(),
  });
  const cloud = initCloud({
    ...sdkInitOptions(stack.adminUrl),
    // The SDK's own request deadline (15 s by default), far above need: on a starved machine a
    // call is slow, and the test must still see its answer rather than a client timeout.
    timeout: SDK_TIMEOUT_MS,
  } as CloudInitOverrides);
  const clock = new Clock();
  const coze = new ScriptedCoze();
  const logs: string[] = [];
  const deps: FunctionDeps & { coze: CozeClient } = {
    config: loadConfig({ ...TEST_ENV, ...env }),
    log: createLogger('test', (line) => logs.push(line)),
    store: new TaskStore(cloud.db, cloud._),
    ledger: new LedgerStore(cloud.db, cloud._),
    queue: new QueueStore(cloud.db, cloud._),
    coze,
    send: cloud.sendSubscribeMessage,
    openid: () => undefined,
    now: clock.now,
    sleep: clock.sleep,
  };
  return {
    stack,
    clock,
    coze,
    deps,
    logs,
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A correctly signed HTTP-access event for a callback body; tests then break one field. */
export function signedEvent(
  body: object | string,
  opts: { id?: string; at?: Date; secret?: string; base64?: boolean } = {},
) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const ts = Math.floor((opts.at ?? T0).getTime() / 1000);
  const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  return {
    httpMethod: 'POST',
    path: '/webhook/coze',
    headers: {
      'content-type': 'application/json',
      ...signedHeaders(opts.secret ?? SECRET, id, ts, Buffer.from(raw, 'utf8')),
    },
    body: opts.base64 ? Buffer.from(raw, 'utf8').toString('base64') : raw,
    isBase64Encoded: Boolean(opts.base64),
  };
}

export function callbackBody(
  type: 'progress' | 'completed' | 'failed',
  taskId: string,
  token: string,
  extra: {
    executeId?: string;
    progress?: number;
    output?: TaskResult;
    error?: { code: string; message: string };
  } = {},
) {
  return {
    type: `workflow.execution.${type}`,
    data: {
      task_id: taskId,
      execute_id: extra.executeId ?? '',
      callback_token: token,
      ...(extra.progress !== undefined ? { progress: extra.progress } : {}),
      ...(extra.output ? { output: extra.output } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    },
  };
}
