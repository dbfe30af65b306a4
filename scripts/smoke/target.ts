/**
 * What the smoke checks: a deployed environment (read from `.env`, reached with the operator's
 * API key and Coze token, as the deploy and db:init are) or the local stack. Both give the same
 * handles, so the hops run the same code against either.
 */
import { loadConfig, readConfig, type Config } from '../../shared/config';
import { cozeForSweep } from '../../cloudfunctions/_adapters/coze-clients';
import { initCloud, type CloudInitOverrides } from '../../cloudfunctions/_adapters/cloud';
import type { CozeClient } from '../../cloudfunctions/_adapters/coze';
import { TaskStore } from '../../cloudfunctions/_adapters/database';
import { sdkInitOptions } from '../../emulator/client';
import { resolveEnv } from '../env-file';
import { checkDeployKeys } from '../deploy/keys';
import type { ProductStack } from '../local-stack';

export interface SmokeTarget {
  /** What is checked, as the first line says it. */
  label: string;
  local: boolean;
  /** The settings the deployed functions were given (from `.env`), or the local stack's. */
  config: Config;
  store: TaskStore;
  coze: CozeClient;
  /** The secrets (names → values) to keep out of everything printed. */
  secrets: Record<string, string | undefined>;
}

/** Why the target cannot be reached, and the one thing to fix. */
export class TargetError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** The deployed environment of `.env` (then `.env.local`, then the process environment). */
export function cloudTarget(root: string, processEnv: Record<string, string | undefined>) {
  const env = resolveEnv(root, processEnv).values;
  const reading = readConfig(env);
  if (reading.problems.length) {
    throw new TargetError(
      `invalid settings: ${reading.problems.map((p) => `${p.key} ${p.problem}`).join('; ')}`,
      'fix them in .env (npm run deploy -- --dry-run names each), deploy, then run the smoke again',
    );
  }
  const config = loadConfig(env);
  const keys = checkDeployKeys(env);
  const deploy = keys.deploy;
  if (!deploy || keys.issues.length) {
    throw new TargetError(
      keys.issues.map((i) => i.message).join('; ') || 'ENV_ID is required',
      'set ENV_ID (and TCB_REGION outside ap-shanghai) in .env',
    );
  }
  if (!deploy.TCB_API_KEY_ID || !deploy.TCB_API_KEY) {
    throw new TargetError(
      'TCB_API_KEY_ID / TCB_API_KEY are not set',
      'set a Tencent Cloud API key allowed to manage this environment in .env (the one db:init uses): the smoke writes and removes its own task with it',
    );
  }
  const cloud = initCloud({
    env: deploy.ENV_ID,
    secretId: deploy.TCB_API_KEY_ID,
    secretKey: deploy.TCB_API_KEY,
    ...(deploy.TCB_REGION ? { region: deploy.TCB_REGION } : {}),
  });
  return {
    label: `CloudBase environment ${deploy.ENV_ID}, Coze at ${config.COZE_API_BASE}`,
    local: false,
    config,
    store: new TaskStore(cloud.db, cloud._),
    coze: cozeForSweep(config),
    secrets: {
      COZE_API_TOKEN: config.COZE_API_TOKEN,
      WEBHOOK_SECRET: config.WEBHOOK_SECRET,
      TCB_API_KEY: deploy.TCB_API_KEY,
      TCB_API_KEY_ID: deploy.TCB_API_KEY_ID,
    },
  } satisfies SmokeTarget;
}

/** A running local stack, through the same SDK and Coze client (its stand-in, or the real Coze). */
export function localTarget(product: ProductStack, over: Partial<Config> = {}): SmokeTarget {
  const config = { ...loadConfig(product.env), ...over };
  const cloud = initCloud(sdkInitOptions(product.stack.adminUrl) as CloudInitOverrides);
  return {
    label: `local stack ${product.url}, ${product.usingRealCoze ? `real Coze at ${config.COZE_API_BASE}` : 'Coze stand-in'}`,
    local: true,
    config,
    store: new TaskStore(cloud.db, cloud._),
    coze: cozeForSweep(config),
    secrets: { COZE_API_TOKEN: config.COZE_API_TOKEN, WEBHOOK_SECRET: config.WEBHOOK_SECRET },
  };
}
