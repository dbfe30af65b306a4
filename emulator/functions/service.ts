/**
 * The functions service: the runtime (a pool of warm child processes per function, pool.ts), started
 * once the port is known (the children need the admin URL), and `POST /functions/<name>`, a call from
 * the mini-program.
 */
import * as path from 'node:path';
import type { RequestContext } from '../http/router';
import type { Monitor } from '../monitor/monitor';
import type { ProjectSpec } from '../project';
import type { EmulatorService } from '../service';
import { FunctionRuntime, type InvokeOutcome, type InvokeRequest } from './pool';

/** A failed invocation, with the cloud's callFunction error code (e.g. -504002 error, -504003 timeout). */
export class FunctionCallError extends Error {
  constructor(
    readonly errCode: number,
    readonly errMsg: string,
  ) {
    super(`errCode: ${errCode} | errMsg: ${errMsg}`);
    this.name = 'FunctionCallError';
  }
}

export interface FunctionsService extends EmulatorService {
  readonly name: 'functions';
  /** The runtime; throws before the server listens. */
  runtime(): FunctionRuntime;
  /** Resolves the return value, rejects with a FunctionCallError. */
  call(name: string, request: InvokeRequest): Promise<unknown>;
}

export interface FunctionsOptions {
  project: ProjectSpec;
  projectDir: string;
  dataDir: string;
  envId: string;
  maxInstances: number;
  monitor: Monitor;
  log: (line: string) => void;
}

/** A call's body limit: the gateway's. */
const BODY_LIMIT = 6 * 1024 * 1024;
const FUNCTIONS_POST_ONLY = { errCode: -501007, errMsg: 'POST only' };

function outcomeStatus(o: Exclude<InvokeOutcome, { ok: true }>): number {
  return o.kind === 'not-found' ? 404 : 500;
}

export function createFunctions(opts: FunctionsOptions): FunctionsService {
  let runtime: FunctionRuntime | undefined;
  const rt = (): FunctionRuntime => {
    if (!runtime) throw new Error('runtime not started');
    return runtime;
  };

  async function callFromClient(c: RequestContext): Promise<void> {
    // The front door has checked that the path decodes.
    const name = decodeURIComponent(c.path.slice('/functions/'.length));
    const body = await c.body(BODY_LIMIT);
    if (!body) return c.json(413, { errCode: -501007, errMsg: 'request body too large' });
    let event: unknown = {};
    if (body.length) {
      try {
        event = JSON.parse(body.toString('utf8')) as unknown;
      } catch {
        return c.json(400, { errCode: -501007, errMsg: 'invalid params: body must be JSON' });
      }
    }
    const request: InvokeRequest = { event, source: 'client' };
    const openid = c.header('x-wx-openid');
    const appid = c.header('x-wx-appid');
    const unionid = c.header('x-wx-unionid');
    if (openid) request.openid = openid;
    if (appid) request.appid = appid;
    if (unionid) request.unionid = unionid;
    if (c.req.socket.remoteAddress) request.clientIp = c.req.socket.remoteAddress;
    const outcome = await rt().invoke(name, request);
    if (outcome.ok) c.json(200, outcome.value);
    else c.json(outcomeStatus(outcome), { errCode: outcome.errCode, errMsg: outcome.errMsg });
  }

  return {
    name: 'functions',
    runtime: rt,
    async call(name, request) {
      const outcome = await rt().invoke(name, request);
      if (outcome.ok) return outcome.value;
      throw new FunctionCallError(outcome.errCode, outcome.errMsg);
    },
    routes: () => [
      {
        method: 'POST',
        prefix: '/functions/',
        cors: true,
        bodyLimit: BODY_LIMIT,
        handle: callFromClient,
      },
      { prefix: '/functions/', cors: true, handle: (c) => c.json(405, FUNCTIONS_POST_ONLY) },
    ],
    listening(url) {
      runtime = new FunctionRuntime({
        project: opts.project,
        adminUrl: `${url}/admin`,
        envId: opts.envId,
        maxInstances: opts.maxInstances,
        buildDir: path.join(opts.dataDir, '.build'),
        nodePaths: [
          path.join(opts.projectDir, 'node_modules'),
          path.resolve(__dirname, '..', '..', 'node_modules'),
        ],
        log: opts.log,
        monitor: opts.monitor,
      });
    },
    close: () => runtime?.close(),
  };
}
