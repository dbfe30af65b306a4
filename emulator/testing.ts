/** Helpers for tests that run the local stack on the fixture project. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as WxCloud from 'wx-server-sdk';
import { type LocalStack, type LocalStackOptions, startLocalStack } from './index';

const FIXTURE_PROJECT = path.join(__dirname, 'fixtures', 'project');

const FIXTURE_TEMPLATES = [
  { id: 'tpl-done', keywords: ['thing1', 'time2', 'phrase3'] },
  { id: 'tpl-failed', keywords: ['thing1', 'character_string2', 'number3'] },
];

export const FIXTURE_ENV = { FIXTURE_GREETING: 'hello from env', FIXTURE_HOOK_KEY: 'hook-key-123' };

export function tempDataDir(prefix = 'local-stack-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The fixture stack on a random port with timers off unless asked; collect its log lines if you want them. */
export function startFixtureStack(
  overrides: Partial<LocalStackOptions> & { dataDir: string },
): Promise<LocalStack> {
  return startLocalStack({
    port: 0,
    projectDir: FIXTURE_PROJECT,
    env: FIXTURE_ENV,
    templates: FIXTURE_TEMPLATES,
    timersEnabled: false,
    collections: ['tasks', 'echoes', 'ticks'],
    ...overrides,
  });
}

/** Posts one raw admin action, as node-sdk would (JSON body). */
export async function adminCall(
  adminUrl: string,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${adminUrl}?env=local&seqId=test`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  return (await res.json()) as Record<string, unknown>;
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 5000,
  stepMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

type Doc = Record<string, unknown>;

/**
 * The server SDK's database as it behaves: every call answers a promise. Its own typings add callback-style
 * `void | string` results that would need a cast at every call site.
 */
export interface SdkQuery {
  where(condition: object): SdkQuery;
  orderBy(field: string, order: 'asc' | 'desc'): SdkQuery;
  skip(n: number): SdkQuery;
  limit(n: number): SdkQuery;
  field(projection: object): SdkQuery;
  get(): Promise<{ data: Doc[]; errMsg: string }>;
  count(): Promise<{ total: number; errMsg: string }>;
  update(options: {
    data: object;
    multi?: boolean;
  }): Promise<{ stats: { updated: number }; errMsg: string }>;
  remove(): Promise<{ stats: { removed: number }; errMsg: string }>;
}

export interface SdkDocument {
  get(): Promise<{ data: Doc | null; errMsg: string }>;
  set(options: {
    data: object;
  }): Promise<{ _id: string; stats: { updated: number; created: number } }>;
  update(options: { data: object }): Promise<{ stats: { updated: number }; errMsg: string }>;
  remove(): Promise<{ stats: { removed: number }; errMsg: string }>;
}

export interface SdkCollection extends SdkQuery {
  doc(id: string): SdkDocument;
  add(options: { data: object }): Promise<{ _id: string; errMsg: string }>;
}

export interface SdkDatabase {
  collection(name: string): SdkCollection;
  command: ReturnType<typeof WxCloud.database>['command'];
  serverDate(options?: { offset: number }): object;
  createCollection(name: string): Promise<{ errMsg: string }>;
}

export function sdkDatabase(cloud: typeof WxCloud, config?: Record<string, unknown>): SdkDatabase {
  return cloud.database(config as Parameters<typeof WxCloud.database>[0]) as unknown as SdkDatabase;
}
