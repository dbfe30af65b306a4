/**
 * The stand-in's fault knobs: what they are, how they come from the environment, and the one check
 * every change passes. A change applies to the runs and requests that come after it.
 */
import { CALLBACK_MODES, isCallbackMode, type CallbackMode } from './simulated-workflow';

/**
 * How a start that did start its run is answered: `normal`; `truncated` JSON or an `empty` body
 * (HTTP 200, as a broken gateway might); `slow`, after SLOW_START_MS, past any start's timeout.
 * In all three faults the run is going: the backend must treat the start as maybe started.
 */
export const START_ANSWER_MODES = ['normal', 'truncated', 'empty', 'slow'] as const;
export type StartAnswerMode = (typeof START_ANSWER_MODES)[number];
export const SLOW_START_MS = 12_000;

function isStartAnswerMode(v: unknown): v is StartAnswerMode {
  return (START_ANSWER_MODES as readonly unknown[]).includes(v);
}

/** The fault knobs, changeable while the stand-in runs. */
export interface StandinSettings {
  /** time from a run's start to its final callback */
  delayMs: number;
  callbackMode: CallbackMode;
  /** 0..1: share of starts answering code 5000 (busy) */
  createErrorRate: number;
  startAnswer: StartAnswerMode;
  /**
   * Calls a second the stand-in takes, run starts and history reads together, as Coze's one
   * bucket does (its plan's QPS); beyond it a call is answered HTTP 429 with code 4009. 0: no limit.
   */
  qps: number;
}

const DEFAULT_DELAY_MS = 1500;
const MAX_DELAY_MS = 600_000;
const MAX_QPS = 1000;

export const DEFAULT_SETTINGS: StandinSettings = {
  callbackMode: 'normal',
  createErrorRate: 0,
  delayMs: DEFAULT_DELAY_MS,
  startAnswer: 'normal',
  qps: 0,
};

/** Validates knobs; throws naming the bad one. */
export function checkSettings(s: StandinSettings): StandinSettings {
  const { delayMs, callbackMode, createErrorRate, startAnswer, qps } = s;
  if (!(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAX_DELAY_MS)) {
    throw new Error(`coze stand-in: delayMs must be 0..${MAX_DELAY_MS}`);
  }
  if (!isCallbackMode(callbackMode))
    throw new Error(`coze stand-in: unknown callbackMode ${String(callbackMode)}`);
  if (!(createErrorRate >= 0 && createErrorRate <= 1))
    throw new Error('coze stand-in: createErrorRate must be 0..1');
  if (!isStartAnswerMode(startAnswer))
    throw new Error(`coze stand-in: unknown startAnswer ${String(startAnswer)}`);
  if (!(Number.isFinite(qps) && qps >= 0 && qps <= MAX_QPS))
    throw new Error(`coze stand-in: qps must be 0..${MAX_QPS} (0: no limit)`);
  return { delayMs, callbackMode, createErrorRate, startAnswer, qps };
}

/** One knob's environment variable: how to read it, and what it must look like. */
interface EnvKnob<K extends keyof StandinSettings> {
  name: string;
  key: K;
  read(raw: string): StandinSettings[K] | null;
  rule: string;
}

const wholeNumber = (max: number) => (raw: string) =>
  /^\d+$/.test(raw) && Number(raw) <= max ? Number(raw) : null;

const ENV_KNOBS: EnvKnob<keyof StandinSettings>[] = [
  {
    name: 'COZE_STANDIN_DELAY_MS',
    key: 'delayMs',
    read: wholeNumber(MAX_DELAY_MS),
    rule: `a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`,
  },
  {
    name: 'COZE_STANDIN_CALLBACK',
    key: 'callbackMode',
    read: (raw) => {
      const v = raw.toLowerCase();
      return isCallbackMode(v) ? v : null;
    },
    rule: `one of ${CALLBACK_MODES.join(', ')}`,
  },
  {
    name: 'COZE_STANDIN_CREATE_ERROR_RATE',
    key: 'createErrorRate',
    read: (raw) => {
      const n = Number(raw);
      return /^(\d+(\.\d*)?|\.\d+)$/.test(raw) && n >= 0 && n <= 1 ? n : null;
    },
    rule: 'a number from 0 to 1',
  },
  {
    name: 'COZE_STANDIN_START_ANSWER',
    key: 'startAnswer',
    read: (raw) => {
      const v = raw.toLowerCase();
      return isStartAnswerMode(v) ? v : null;
    },
    rule: `one of ${START_ANSWER_MODES.join(', ')}`,
  },
  {
    name: 'COZE_STANDIN_QPS',
    key: 'qps',
    read: wholeNumber(MAX_QPS),
    rule: `a whole number of calls a second from 0 (no limit) to ${MAX_QPS}`,
  },
];

/** The knobs set in the environment (COZE_STANDIN_*); throws naming a bad one. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Partial<StandinSettings> {
  const out: Partial<Record<keyof StandinSettings, unknown>> = {};
  for (const knob of ENV_KNOBS) {
    const raw = env[knob.name]?.trim();
    if (!raw) continue;
    const value = knob.read(raw);
    if (value === null) {
      throw new Error(`${knob.name} must be ${knob.rule}, got ${JSON.stringify(raw)}`);
    }
    out[knob.key] = value;
  }
  return out as Partial<StandinSettings>;
}
