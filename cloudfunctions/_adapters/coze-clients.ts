/**
 * The Coze client as each caller bounds it, built from that function's settings. Only the entries
 * that call Coze import this file (extractText, taskSweeper), so the webhook's bundle carries no
 * Coze client and its variables no Coze token.
 */
import type { Config } from '../../shared/config';
import { createCozeClient, type CozeClient } from './coze';

/** `create`: a user waits on the answer, so its one start is bounded well under a second. */
export function cozeForCreate(config: Config): CozeClient {
  return createCozeClient({
    baseUrl: config.COZE_API_BASE,
    token: config.COZE_API_TOKEN,
    workflowId: config.COZE_WORKFLOW_ID,
    timeoutMs: config.COZE_START_TIMEOUT_MS,
  });
}

/**
 * The sweeper: nobody waits, so a start may take COZE_TIMEOUT_MS (once: a start is never sent
 * twice), and a history read up to three attempts within twice that.
 */
export function cozeForSweep(config: Config): CozeClient {
  return createCozeClient({
    baseUrl: config.COZE_API_BASE,
    token: config.COZE_API_TOKEN,
    workflowId: config.COZE_WORKFLOW_ID,
    timeoutMs: config.COZE_TIMEOUT_MS,
    maxAttempts: 3,
    deadlineMs: config.COZE_TIMEOUT_MS * 2,
  });
}
