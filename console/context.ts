/** What the console reads the stack through, and the state its parts share. */
import type { LocalStack } from '../emulator';
import type { CozeStandin } from '../standin/coze-standin';
import type { LiveEvents } from './live-events';
import type { LogBook } from './logbook';
import type { QueueRecord } from './queue-record';
import type { Scrubber } from './safe';

export interface ConsoleContext {
  stack: LocalStack;
  standin: CozeStandin | null;
  /** The settings the functions run with: only the non-secret ones are ever shown. */
  env: Record<string, string>;
  usingRealCoze: boolean;
  dataDir: string;
  /** How the stack's templates read in WeChat: the title and the name printed before each keyword. */
  templates: readonly { id: string; title: string; labels: Record<string, string> }[];
}

/** The console's own state, one per console: its parts read and grow it. */
export interface ConsoleState {
  ctx: ConsoleContext | null;
  scrub: Scrubber;
  logs: LogBook;
  live: LiveEvents;
  /** The queue second by second, from the moment the console was attached. */
  queue: QueueRecord | null;
}

/** The collection the console reads tasks from. */
export const TASKS = 'tasks';
