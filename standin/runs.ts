/**
 * A stand-in run as it is kept (`<dataDir>/coze-standin.json`) and as its run history shows it.
 */
import { randomInt } from 'node:crypto';
import * as z from 'zod';
import { CALLBACK_TYPES, type CallbackType } from '../shared/callback';
import { taskResultSchema } from '../shared/result';
import {
  EXECUTE_STATUS,
  encodeRunOutput,
  endOutputsOf,
  type HistoryEntryWire,
} from '../shared/coze-workflow';
import { WORKFLOW_FAILURE_CODES } from '../shared/errors';
import {
  CALLBACK_MODES,
  SIMULATED_MEDIA,
  type CallbackMode,
  type PlannedOutcome,
} from './simulated-workflow';

export interface StandinDelivery {
  type: CallbackType;
  progress: number;
  webhookId: string;
  /** ms since epoch, when the post was made */
  at: number;
  /** the webhook's HTTP status; null when the post failed */
  httpStatus: number | null;
}

export interface StandinRun {
  executeId: string;
  workflowId: string;
  taskId: string;
  shareText: string;
  callbackUrl: string;
  /** Kept so a restarted stand-in can still sign its callbacks; local data only. */
  callbackToken: string;
  /** ms since epoch */
  startedAt: number;
  delayMs: number;
  mode: CallbackMode;
  outcome: PlannedOutcome;
  /** Indexes of the callback plan's steps already carried out. */
  stepsDone: number[];
  /** webhook-id per plan step, fixed before the first post so a re-delivery reuses it. */
  webhookIds: Record<string, string>;
  /** When the final step ran (the run history says Running until then). */
  finishedAt: number | null;
  deliveries: StandinDelivery[];
}

const failureCodeSchema = z.enum(WORKFLOW_FAILURE_CODES);
const outcomeSchema = z.union([
  z.object({ kind: z.literal('completed'), result: taskResultSchema }),
  z.object({ kind: z.literal('failed'), errorCode: failureCodeSchema, errorMessage: z.string() }),
  // Runs stored before the outcome vocabulary was shared: read them into it.
  z
    .object({ status: z.literal('Success'), output: taskResultSchema })
    .transform(({ output }) => ({ kind: 'completed' as const, result: output })),
  z
    .object({ status: z.literal('Fail'), errorCode: failureCodeSchema, errorMessage: z.string() })
    .transform(({ errorCode, errorMessage }) => ({
      kind: 'failed' as const,
      errorCode,
      errorMessage,
    })),
]);

const runSchema = z.object({
  executeId: z.string().min(1),
  workflowId: z.string(),
  taskId: z.string(),
  shareText: z.string(),
  callbackUrl: z.string(),
  callbackToken: z.string(),
  startedAt: z.number(),
  delayMs: z.number().min(0),
  mode: z.enum(CALLBACK_MODES),
  outcome: outcomeSchema,
  stepsDone: z.array(z.number().int()),
  webhookIds: z.record(z.string(), z.string()),
  finishedAt: z.number().nullable(),
  deliveries: z.array(
    z.object({
      type: z.enum(CALLBACK_TYPES),
      progress: z.number(),
      webhookId: z.string(),
      at: z.number(),
      httpStatus: z.number().nullable(),
    }),
  ),
});

/** `<dataDir>/coze-standin.json`. */
export const storeSchema = z.object({ version: z.literal(1), runs: z.array(runSchema) });

/** Coze execute ids are 19-digit numbers as strings. */
export function newExecuteId(): string {
  return `7${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

export function debugUrl(executeId: string): string {
  return `${SIMULATED_MEDIA}/debug?execute_id=${executeId}`;
}

/** The run's history entry, as Coze writes it: Running until the final step, then its end. */
export function historyEntry(run: StandinRun): HistoryEntryWire {
  const { outcome } = run;
  const finished = run.finishedAt !== null;
  const fail = finished && outcome.kind === 'failed' ? outcome : null;
  return {
    execute_id: run.executeId,
    execute_status: !finished
      ? EXECUTE_STATUS.running
      : outcome.kind === 'completed'
        ? EXECUTE_STATUS.success
        : EXECUTE_STATUS.fail,
    create_time: Math.floor(run.startedAt / 1000),
    update_time: Math.floor((run.finishedAt ?? run.startedAt) / 1000),
    output: encodeRunOutput(
      finished && outcome.kind === 'completed' ? endOutputsOf(outcome.result) : null,
    ),
    error_code: fail ? fail.errorCode : finished ? '0' : '',
    // As the docs' workflow raises it: "<CODE>: <message>".
    error_message: fail ? `${fail.errorCode}: ${fail.errorMessage}` : '',
    debug_url: debugUrl(run.executeId),
  };
}
