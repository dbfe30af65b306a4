/**
 * The body of the callback the Coze workflow posts when a run progresses or ends: its one schema,
 * parsed within bounds (`result.ts`). Signing and the callback token are `signing.ts`.
 */
import * as z from './zod';
import { workflowFailureCode } from './errors';
import { RESULT_KINDS, adjustedFields, boundResult } from './result';
import { failureEvent, type CallbackProof, type TaskEvent } from './status';

export const CALLBACK_TYPES = [
  'workflow.execution.progress',
  'workflow.execution.completed',
  'workflow.execution.failed',
] as const;
export type CallbackType = (typeof CALLBACK_TYPES)[number];

export const MAX_CALLBACK_BYTES = 1024 * 1024;

// The 1 MiB body limit bounds what is parsed; boundResult bounds what is kept.
const outputSchema = z.pipe(
  z.strictObject({
    title: z._default(z.string(), ''),
    content: z._default(z.string(), ''),
    cover: z._default(z.string(), ''),
    video_url: z._default(z.string(), ''),
    // `note`: the content is a photo note's own text; missing (a workflow built before notes,
    // a progress callback) means a transcript.
    kind: z.optional(z.enum(RESULT_KINDS)),
  }),
  z.transform(boundResult),
);

const errorSchema = z.strictObject({
  code: z._default(z.string().check(z.maxLength(64)), ''),
  // Only logged (the user sees our catalogue's message): kept short.
  message: z.pipe(
    z._default(z.string(), ''),
    z.transform((m) => m.slice(0, 500)),
  ),
});

const baseData = {
  task_id: z.string().check(z.minLength(1), z.maxLength(64)),
  // Empty or missing when the workflow could not learn its own execute id.
  execute_id: z._default(z.string().check(z.maxLength(128)), ''),
  // An empty or wrong token is the handler's 401, not a malformed body.
  callback_token: z.string().check(z.maxLength(256)),
  progress: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(100))),
};

const progressBody = z.strictObject({
  type: z.literal('workflow.execution.progress'),
  data: z.strictObject({
    ...baseData,
    output: z.optional(outputSchema),
    error: z.optional(errorSchema),
  }),
});

const completedBody = z.strictObject({
  type: z.literal('workflow.execution.completed'),
  data: z.strictObject({ ...baseData, output: outputSchema, error: z.optional(errorSchema) }),
});

const failedBody = z.strictObject({
  type: z.literal('workflow.execution.failed'),
  data: z.strictObject({
    ...baseData,
    output: z.optional(outputSchema),
    // A missing or empty code reads as PROVIDER_ERROR (`workflowFailureCode`).
    error: z.optional(errorSchema),
  }),
});

/**
 * Unknown keys are refused, not stripped: a misspelt field in the workflow's code (`video_ur1`)
 * would otherwise drop its value without a word. The refusal names the field (`describeIssues`).
 */
export const callbackBodySchema = z.discriminatedUnion('type', [
  progressBody,
  completedBody,
  failedBody,
]);
export type CallbackBody = z.infer<typeof callbackBodySchema>;
/** A body as the workflow writes it (before defaults and bounds). */
export type CallbackBodyInput = z.input<typeof callbackBodySchema>;

export type ParseCallbackResult =
  | {
      ok: true;
      body: CallbackBody;
      /** output fields cut to their bound or dropped (not http(s)): names only, for the log */
      adjusted: string[];
    }
  | { ok: false; issues: string };

/** Issues as paths and rules; an unknown field by its name when it is a plain identifier. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 10)
    .map((i) => {
      if (i.code === 'unrecognized_keys') {
        return z
          .unknownFieldPaths(i.path, i.keys)
          .map((p) => `${p}: unknown field`)
          .join('; ');
      }
      return `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.code}: ${i.message}`;
    })
    .join('; ');
}

const encoder = new TextEncoder();

/**
 * JSON parse + schema. `issues` names paths and rules only, never a value from the body, so it is
 * safe to log (the body carries the callback token).
 */
export function parseCallbackBody(raw: string): ParseCallbackResult {
  if (typeof raw !== 'string') return { ok: false, issues: 'body is not a string' };
  // A string of n UTF-16 units is at most 3n UTF-8 bytes: encode only when it could be too big.
  if (raw.length * 3 > MAX_CALLBACK_BYTES && encoder.encode(raw).length > MAX_CALLBACK_BYTES) {
    return { ok: false, issues: `body is larger than ${MAX_CALLBACK_BYTES} bytes` };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The SyntaxError's message quotes the input, so it is not passed on.
    return { ok: false, issues: 'body is not valid JSON' };
  }
  const parsed = callbackBodySchema.safeParse(json);
  if (parsed.success) {
    const output = parsed.data.data.output;
    const rawOutput = (json as { data?: { output?: unknown } }).data?.output;
    return {
      ok: true,
      body: parsed.data,
      adjusted: output ? adjustedFields(rawOutput, output) : [],
    };
  }
  return { ok: false, issues: describeIssues(parsed.error.issues) };
}

/** The task event a verified callback makes: the one mapping from a callback to a transition. */
export function eventFromCallback(body: CallbackBody, proof: CallbackProof): TaskEvent {
  const from = { source: 'callback', callback: proof } as const;
  switch (body.type) {
    case 'workflow.execution.progress':
      return { type: 'progress', progress: body.data.progress ?? 0, ...from };
    case 'workflow.execution.completed':
      return { type: 'completed', result: body.data.output, ...from };
    case 'workflow.execution.failed':
      return failureEvent(workflowFailureCode(body.data.error?.code), from);
  }
}
