/**
 * The Coze workflow contract: the start inputs the backend sends, the run history Coze answers, the
 * failure codes a workflow may report, and what a run's history means as a run outcome.
 *
 * Written once, here: the Coze client (cloudfunctions/_adapters/coze.ts) builds and reads these
 * shapes, the local stand-in (standin/) answers them, and the workflow's documentation test
 * (test/coze-workflow-doc.test.ts) holds docs/coze-workflow.md to them, as shared/callback.ts does
 * for the callback the workflow posts. Pure domain code: no I/O.
 */
import * as z from './zod';
import { PROVIDER_ERROR, workflowFailureCode, type WorkflowFailureCode } from './errors';
import { boundResult, resultKind, type TaskResult } from './result';
import { failureEvent, type From, type TaskEvent } from './status';

// ---------------------------------------------------------------------------------------------
// Starting a run: `POST /v1/workflow/run`

/** The Start node's inputs, all String and required; a deployed workflow depends on these names. */
export const START_INPUTS = ['share_text', 'task_id', 'callback_url', 'callback_token'] as const;
export type StartInputName = (typeof START_INPUTS)[number];
export type StartParameters = Record<StartInputName, string>;

export interface StartRunInput {
  /**
   * The normalized share link (the task's `input_url`), not the pasted text: nothing a user typed
   * reaches the workflow's prompts. Sent as the `share_text` input.
   */
  shareUrl: string;
  taskId: string;
  callbackUrl: string;
  callbackToken: string;
}

/** The start request's body. Always asynchronous: the result comes by callback. */
export interface StartRequest {
  workflow_id: string;
  parameters: StartParameters;
  is_async: true;
}

export function startRequest(workflowId: string, input: StartRunInput): StartRequest {
  return {
    workflow_id: workflowId,
    parameters: {
      share_text: input.shareUrl,
      task_id: input.taskId,
      callback_url: input.callbackUrl,
      callback_token: input.callbackToken,
    },
    is_async: true,
  };
}

/** What a `callback_url` must look like (the stand-in refuses others, as the workflow's HTTP node would fail). */
export const CALLBACK_URL_PATTERN = /^https?:\/\/[^\s]+$/i;

// ---------------------------------------------------------------------------------------------
// Coze's answers. Unknown keys are stripped; only what the backend reads is required.

/** Coze's business codes the backend tells apart (`code` in every answer; 0 is success). */
export const COZE_CODES = {
  /** a malformed request (missing input, sync run, bad JSON) */
  invalidRequest: 4000,
  /** too many requests */
  rateLimited: 4009,
  tokenInvalid: 4100,
  /** no permission, or a token of the other service (coze.cn / coze.com) */
  permission: 4101,
  notPublished: 4200,
  runNotFound: 4314,
  /** a server busy */
  busy: 5000,
  /** async runs need a paid plan */
  asyncNotAllowed: 6003,
} as const;

const codeSchema = z.union([
  z.number().check(z.int()),
  // Defensive: some gateways stringify numbers.
  z.pipe(z.string().check(z.regex(/^-?\d{1,9}$/)), z.transform(Number)),
]);

/**
 * An optional field that reads as missing when it is malformed, as `.catch(undefined)` does in
 * classic zod, made from zod's own catch class: mini's `catch` helper reaches its constant through
 * a nested namespace (`core.util`), which keeps all of zod's utilities in a bundle (about 9 KB).
 */
const orMissing = <T extends z.ZodMiniType>(inner: T) =>
  new z.ZodMiniCatch({
    type: 'catch',
    innerType: z.optional(inner),
    catchValue: () => undefined,
  }) as z.ZodMiniCatch<z.ZodMiniOptional<T>>;

/** Every answer: `code` (0 = success), a message, and the log id Coze support asks for. */
export const envelopeSchema = z.object({
  code: codeSchema,
  msg: orMissing(z.string()),
  detail: orMissing(z.object({ logid: z.optional(z.string()) })),
});

export const startAnswerSchema = z.object({
  code: z.literal(0),
  execute_id: z.string().check(z.minLength(1)),
  debug_url: orMissing(z.string()),
});

/** `execute_status` of a run in its history; Coze may add others (they count as failed). */
export const EXECUTE_STATUS = { running: 'Running', success: 'Success', fail: 'Fail' } as const;

const historyEntrySchema = z.object({
  execute_id: orMissing(z.string()),
  execute_status: z.string(),
  error_code: z.nullish(z.union([z.string(), z.number()])),
  error_message: z.nullish(z.string()),
  output: z.nullish(z.string()),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** `GET /v1/workflows/<workflow_id>/run_histories/<execute_id>`. */
export const historyAnswerSchema = z.object({
  code: z.literal(0),
  data: z.array(historyEntrySchema),
});

/** One history entry as Coze writes it (what the stand-in answers). */
export interface HistoryEntryWire {
  execute_id: string;
  execute_status: string;
  /** seconds since epoch */
  create_time: number;
  update_time: number;
  /** double-encoded End outputs: see encodeRunOutput */
  output: string;
  error_code: string;
  error_message: string;
  debug_url: string;
}

// ---------------------------------------------------------------------------------------------
// The End node's outputs, double-encoded in the history's `output`

/**
 * The End node's outputs, all String; `error` is the failure code, empty on success; `kind` is
 * `note` when `content` is a photo note's own text, `transcript` (or empty) otherwise.
 */
export const END_OUTPUTS = ['title', 'content', 'cover', 'video_url', 'error', 'kind'] as const;

/** A result as the End node returns it (what the stand-in writes into its run history). */
export function endOutputsOf(result: TaskResult): Record<(typeof END_OUTPUTS)[number], string> {
  return {
    title: result.title,
    content: result.content,
    cover: result.cover,
    video_url: result.video_url,
    error: '',
    kind: resultKind(result),
  };
}

/** As Coze writes it: a JSON text whose `Output` is itself a JSON text (empty while running). */
export function encodeRunOutput(outputs: object | null): string {
  return JSON.stringify({ Output: outputs === null ? '' : JSON.stringify(outputs) });
}

export interface DecodedOutput {
  result: TaskResult;
  /** The error the workflow put in its output ('' when none). */
  error: string;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * `output` is double-encoded: `JSON.parse(JSON.parse(output).Output)`. Null when it is not
 * (including `Output: ''`, which is what a running or output-less run shows).
 */
export function decodeRunOutput(output: string | null | undefined): DecodedOutput | null {
  if (!output) return null;
  let outer: unknown;
  try {
    outer = JSON.parse(output);
  } catch {
    return null;
  }
  if (typeof outer !== 'object' || outer === null || !('Output' in outer)) return null;
  let inner: unknown = (outer as { Output: unknown }).Output;
  if (typeof inner === 'string') {
    if (inner === '') return null;
    try {
      inner = JSON.parse(inner);
    } catch {
      return null;
    }
  }
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return null;
  const o = inner as Record<string, unknown>;
  // The End node may return `error` as a code string or as {code, message}; `error_code` too.
  const errValue = o.error ?? o.error_code;
  const error =
    typeof errValue === 'string'
      ? errValue
      : typeof errValue === 'object' && errValue !== null
        ? str((errValue as { code?: unknown }).code)
        : '';
  return {
    // Within the same bounds as a callback's output (see shared/callback.ts).
    result: boundResult({
      title: str(o.title),
      content: str(o.content),
      cover: str(o.cover),
      video_url: str(o.video_url),
      kind: str(o.kind).trim().toLowerCase() === 'note' ? 'note' : 'transcript',
    }),
    error: error.trim(),
  };
}

// ---------------------------------------------------------------------------------------------
// How a run ended, as the task event it makes

/** A run's end read from its history: the event it makes, and a detail for the log only. */
export interface RunEnd {
  event: Extract<TaskEvent, { type: 'completed' | 'failed' }>;
  /** Coze's or the workflow's own words about a failure (users see our catalogue's message). */
  detail: string | null;
}

/** Messages kept from a run's failure (for logs), at most this long. */
const MAX_RUN_MESSAGE = 300;

const HISTORY: From = { source: 'history' };

function failed(code: WorkflowFailureCode, detail: string): RunEnd {
  return { event: failureEvent(code, HISTORY) as RunEnd['event'], detail };
}

/**
 * What a history entry means (see docs/coze-workflow.md, "End node"); null while it runs:
 * - `Success` whose output names an error is a failure: our workflow reports a failure it detected
 *   (photo note, no speech, ...) this way when it ends normally. Known code kept, else PROVIDER_ERROR.
 * - `Success` whose output cannot be decoded finished without a usable result: PROVIDER_ERROR.
 * - `Fail`: our code if the workflow put one in error_code, error_message or its output's error
 *   (the docs' workflow raises `"<CODE>: <message>"`); any other platform failure is PROVIDER_ERROR.
 * - Any other status means finished-with-failure (PROVIDER_ERROR), as Coze may add statuses.
 * `scrub` cleans text from the far side before it is kept (it may echo a credential).
 */
export function runEndFromHistory(
  entry: HistoryEntry,
  scrub: (text: string) => string,
): RunEnd | null {
  const status = entry.execute_status;
  if (status === EXECUTE_STATUS.running) return null;
  const decoded = decodeRunOutput(entry.output);
  if (status === EXECUTE_STATUS.success) {
    if (!decoded) {
      return failed(
        PROVIDER_ERROR,
        'run succeeded but its output is not the expected double-encoded JSON',
      );
    }
    if (decoded.error !== '') {
      return failed(
        workflowFailureCode(decoded.error),
        scrub(decoded.error).slice(0, MAX_RUN_MESSAGE),
      );
    }
    return {
      event: { type: 'completed', result: decoded.result, ...HISTORY } as RunEnd['event'],
      detail: null,
    };
  }
  const errorCode = entry.error_code == null ? '' : String(entry.error_code);
  const errorMessage = entry.error_message ?? '';
  if (status === EXECUTE_STATUS.fail) {
    const detail = errorMessage || (errorCode ? `coze error_code ${errorCode}` : 'run failed');
    return failed(
      workflowFailureCode(errorCode, errorMessage, decoded?.error),
      scrub(detail).slice(0, MAX_RUN_MESSAGE),
    );
  }
  return failed(PROVIDER_ERROR, `unexpected execute_status ${JSON.stringify(status.slice(0, 40))}`);
}
