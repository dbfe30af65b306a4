/**
 * The console's API under `/_console/api`: one table, a route per line. Reads answer from
 * queries.ts; actions drive the stack only as a client would (function calls, grants, the
 * stand-in's knobs, the sweeper's timer).
 */
import type { IncomingMessage } from 'node:http';
import { PLATFORMS } from '../shared/share-text';
import { ACTIVE_STATUSES, TASK_STATUSES } from '../shared/status';
import type { CozeStandin } from '../standin/coze-standin';
import { START_ANSWER_MODES } from '../standin/settings';
import { CALLBACK_MODES } from '../standin/simulated-workflow';
import type { ConsoleContext, ConsoleState } from './context';
import { HttpError, readJson } from './http';
import { openidOf, standinPatchOf } from './input';
import * as read from './queries';

interface ApiCall {
  c: ConsoleContext;
  s: ConsoleState;
  req: IncomingMessage;
  q: URLSearchParams;
  /** The path's captured parts, for a route written as a pattern. */
  params: string[];
}

interface ApiRoute {
  method: 'GET' | 'POST';
  path: string | RegExp;
  answer(call: ApiCall): unknown;
}

function needStandin(c: ConsoleContext): CozeStandin {
  if (!c.standin) throw new HttpError(409, 'the real Coze is configured: no stand-in');
  return c.standin;
}

async function grant({ c, req }: ApiCall) {
  const openid = openidOf(await readJson(req));
  c.stack.grant(openid);
  return { ok: true, grants: c.stack.grants()[openid] ?? {} };
}

async function submit({ c, s, req }: ApiCall) {
  const body = await readJson(req);
  const openid = openidOf(body);
  if (typeof body.shareText !== 'string')
    throw new HttpError(400, 'shareText: expected the share text (a string)');
  const subscribe = body.subscribe === true;
  // As the page does: accepting the templates on the tap grants one message of each.
  if (subscribe) c.stack.grant(openid);
  const answer = await c.stack.invoke(
    'extractText',
    {
      action: 'create',
      shareText: body.shareText,
      subscribed: { success: subscribe, failure: subscribe },
    },
    openid,
  );
  return s.scrub.value(answer);
}

async function configureStandin({ c, s, req }: ApiCall) {
  const standin = needStandin(c);
  const patch = standinPatchOf(await readJson(req));
  let now;
  try {
    now = standin.configure(patch);
  } catch (e) {
    // The stand-in's own check, naming the knob and its range.
    throw new HttpError(400, (e as Error).message);
  }
  s.queue?.noteStandinQps(now.qps, Date.now());
  s.live.send('standin', now);
  return now;
}

async function replay({ c, s, params }: ApiCall) {
  const standin = needStandin(c);
  try {
    return s.scrub.value(await standin.replay(Number(params[0])));
  } catch (e) {
    throw new HttpError(404, (e as Error).message);
  }
}

async function sweepNow({ c, s }: ApiCall) {
  const report = await c.stack.runTimer('taskSweeper');
  return { ok: true, report: s.scrub.value(report) };
}

const ROUTES: ApiRoute[] = [
  { method: 'GET', path: '/overview', answer: ({ c }) => read.overview(c) },
  // The values the page's filters and knobs offer, from the one place each is defined.
  {
    method: 'GET',
    path: '/vocab',
    answer: () => ({
      statuses: TASK_STATUSES,
      activeStatuses: ACTIVE_STATUSES,
      platforms: PLATFORMS,
      callbackModes: CALLBACK_MODES,
      startAnswers: START_ANSWER_MODES,
    }),
  },
  { method: 'GET', path: '/tasks', answer: ({ c, s, q }) => read.taskList(c, s, q) },
  {
    method: 'GET',
    path: /^\/tasks\/([A-Za-z0-9_-]{1,64})$/,
    answer: ({ c, s, params }) => read.timeline(c, s, params[0]!),
  },
  { method: 'GET', path: '/queue', answer: ({ c, s, q }) => read.queue(c, s, q) },
  { method: 'GET', path: '/requests', answer: ({ c, s, q }) => read.requests(c, s, q) },
  { method: 'GET', path: '/notices', answer: ({ c, s }) => read.notices(c, s) },
  { method: 'GET', path: '/logs', answer: ({ s, q }) => read.logs(s, q) },
  { method: 'GET', path: '/callbacks', answer: ({ c }) => read.callbacks(c).slice().reverse() },
  { method: 'POST', path: '/grants', answer: grant },
  { method: 'POST', path: '/submit', answer: submit },
  { method: 'GET', path: '/standin', answer: ({ c }) => needStandin(c).settings() },
  { method: 'POST', path: '/standin', answer: configureStandin },
  { method: 'POST', path: /^\/callbacks\/(\d+)\/replay$/, answer: replay },
  { method: 'POST', path: '/sweep', answer: sweepNow },
];

/** Finds the route for `path` (under `/api`) and answers it; 404 names what was asked. */
export async function answerApi(
  c: ConsoleContext,
  s: ConsoleState,
  req: IncomingMessage,
  path: string,
  q: URLSearchParams,
): Promise<unknown> {
  const method = (req.method ?? 'GET').toUpperCase();
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const params =
      typeof route.path === 'string'
        ? route.path === path
          ? []
          : null
        : (route.path.exec(path)?.slice(1) ?? null);
    if (params) return await route.answer({ c, s, req, q, params });
  }
  throw new HttpError(404, `no console API ${method} ${path}`);
}
