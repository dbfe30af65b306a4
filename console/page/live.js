// The console's plumbing: the API call, the live event stream (Server-Sent Events) and the hooks
// views refetch with, and the small pieces every view uses.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const API = '/_console/api';

async function call(path, body) {
  const res = await fetch(`${API}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) {
    const err = new Error(data && data.error ? data.error : `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

// ------------------------------------------------------------------------------------------------
// Live updates: one EventSource; each topic has a counter that views depend on.

const listeners = new Set();
const versions = { tasks: 0, monitor: 0, log: 0, standin: 0, queue: 0 };
const liveState = { on: false };
const streamed = { monitor: [], log: [] };

function connect() {
  const es = new EventSource('/_console/events');
  const bump = (topic, data) => {
    versions[topic]++;
    if (data && streamed[topic]) {
      streamed[topic].push(data);
      if (streamed[topic].length > 2000) streamed[topic].splice(0, 500);
    }
    for (const l of listeners) l();
  };
  es.addEventListener('hello', () => {
    liveState.on = true;
    for (const l of listeners) l();
  });
  es.addEventListener('tasks', () => bump('tasks'));
  es.addEventListener('standin', () => bump('standin'));
  es.addEventListener('queue', () => bump('queue'));
  es.addEventListener('monitor', (e) => {
    const data = JSON.parse(e.data);
    bump('monitor', data);
    // A finished invocation changes the overview and a task's cost.
    if (data.type === 'invocation.finished' || data.type === 'message') bump('tasks');
  });
  es.addEventListener('log', (e) => bump('log', JSON.parse(e.data)));
  es.onerror = () => {
    liveState.on = false;
    for (const l of listeners) l();
  };
}

/** Marks a topic changed from the page itself (after an action), so views that show it refetch. */
function nudge(topic) {
  versions[topic]++;
  for (const l of listeners) l();
}

function useLive(topics) {
  const [, force] = useState(0);
  useEffect(() => {
    let timer = null;
    const l = () => {
      // Bursts of events: at most one refresh per 150 ms.
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        force((n) => n + 1);
      }, 150);
    };
    listeners.add(l);
    return () => {
      listeners.delete(l);
      if (timer) clearTimeout(timer);
    };
  }, []);
  return topics.map((t) => versions[t]).join('.');
}

/**
 * Fetches `path` now and again whenever one of `topics` moves, and every `everyMs` when given (for
 * what changes with no event: a stand-in step that posted nothing, a countdown).
 */
function useData(path, topics, everyMs = 0) {
  const version = useLive(topics);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!everyMs) return undefined;
    const t = setInterval(() => setTick((n) => n + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    let stale = false;
    call(path).then(
      (data) => !stale && setState({ data, error: null }),
      (err) => !stale && setState((s) => ({ data: s.data, error: err.message })),
    );
    return () => {
      stale = true;
    };
  }, [path, version, tick]);
  return state;
}

// ------------------------------------------------------------------------------------------------
// Small pieces

// 24-hour, as the charts' time axes are.
const fmtTime = (v) => (v ? new Date(v).toLocaleTimeString([], { hour12: false }) : '—');
const fmtRel = (ms) => (ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`);
const short = (id) => (id ? String(id).slice(0, 8) : '—');
const Badge = ({ cls, children }) => html`<span class=${`badge ${cls || ''}`}>${children}</span>`;
/** A task id as a link to its timeline (short, the full id on hover). */
const TaskLink = ({ id }) =>
  html`<a class="mono" href=${`#task/${id}`} title=${id} data-testid="task-link">${short(id)}</a>`;
/** Seconds from now, for "in 12 s" / "12 s ago". */
const fromNow = (at, now) => {
  const s = Math.round((at - (now ?? Date.now())) / 1000);
  return s >= 0 ? `in ${s} s` : `${-s} s ago`;
};

function Err({ error }) {
  return error ? html`<div class="flash error">${error}</div>` : null;
}

function useHash() {
  const [hash, setHash] = useState(location.hash.slice(1) || 'overview');
  useEffect(() => {
    const on = () => setHash(location.hash.slice(1) || 'overview');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

// ------------------------------------------------------------------------------------------------
// Overview

export {
  nudge,
  html,
  call,
  liveState,
  streamed,
  connect,
  useLive,
  useData,
  fmtTime,
  fmtRel,
  short,
  fromNow,
  Badge,
  TaskLink,
  Err,
  useHash,
};
