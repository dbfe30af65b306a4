/**
 * The HTTP access service (云函数 HTTP 访问服务): each function's `path` from cloudbaserc.json, longest
 * first; the request becomes the function's integration event, its raw body byte-exact (no content
 * type is required, as the cloud's gateway requires none).
 */
import type { FunctionsService } from '../functions/service';
import type { RequestContext, Route } from '../http/router';
import type { FunctionSpec, ProjectSpec } from '../project';
import type { EmulatorService } from '../service';
import { buildHttpEvent, writeHttpResult } from './event';

/** Request bodies: the gateway's limit. */
const BODY_LIMIT = 6 * 1024 * 1024;

export function createHttpAccess(
  project: ProjectSpec,
  functions: FunctionsService,
  envId: string,
): EmulatorService {
  const serve =
    (fn: FunctionSpec & { httpPath: string }) =>
    async (c: RequestContext): Promise<void> => {
      const body = await c.body(BODY_LIMIT);
      if (!body) return c.json(413, { errCode: -501007, errMsg: 'request body too large' });
      const event = buildHttpEvent(c.req, c.url, body, fn.httpPath, envId);
      const outcome = await functions.runtime().invoke(fn.name, { event, source: 'http' });
      if (outcome.ok) writeHttpResult(c.res, outcome.value);
      else
        c.json(outcome.kind === 'timeout' ? 504 : 502, {
          errCode: outcome.errCode,
          errMsg: outcome.errMsg,
        });
    };
  return {
    name: 'http-access',
    routes: () =>
      project.functions
        .filter((f): f is FunctionSpec & { httpPath: string } => typeof f.httpPath === 'string')
        .sort((a, b) => b.httpPath.length - a.httpPath.length)
        .map((fn): Route => ({ prefix: fn.httpPath, accepts: 'any', handle: serve(fn) })),
  };
}
