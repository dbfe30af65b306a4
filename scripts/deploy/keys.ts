/** The keys only the deploy and db:init read (never given to the functions), and their check. */
import * as z from 'zod';
import { TCB_REGIONS } from './facts';
import { blank, err, type Issue } from './issues';

export const deployKeysSchema = z.object({
  ENV_ID: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9-]{2,62}[A-Za-z0-9]$/,
      'must be the CloudBase environment id (letters, digits, hyphens)',
    ),
  TCB_API_KEY_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]{8,128}$/, 'must be a Tencent Cloud SecretId (letters and digits)')
    .optional(),
  TCB_API_KEY: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9+/=_-]{8,128}$/, 'must be a Tencent Cloud SecretKey')
    .optional(),
  TCB_REGION: z.enum(TCB_REGIONS, { error: `must be one of ${TCB_REGIONS.join(', ')}` }).optional(),
});
export type DeployKeys = z.infer<typeof deployKeysSchema>;
export const DEPLOY_KEYS = Object.keys(deployKeysSchema.shape) as (keyof DeployKeys)[];
/** Deploy-only secrets: never printed, redacted from tcb output. */
export const DEPLOY_SECRET_KEYS = ['TCB_API_KEY', 'TCB_API_KEY_ID'] as const;

export interface DeployKeysCheck {
  deploy?: DeployKeys;
  issues: Issue[];
}

/**
 * The deploy-only keys through their schema, by name: ENV_ID required, the API key well-formed and
 * given in both halves or neither, the region known. `skip` holds keys already reported elsewhere;
 * `from` says where an overriding value came from.
 */
export function checkDeployKeys(
  env: Record<string, string | undefined>,
  opts: { skip?: ReadonlySet<string>; from?: (key: string) => string } = {},
): DeployKeysCheck {
  const issues: Issue[] = [];
  const from = opts.from ?? (() => '');
  const input: Record<string, string> = {};
  for (const key of DEPLOY_KEYS) {
    const v = env[key];
    if (!blank(v) && v !== undefined) input[key] = v;
  }
  let deploy: DeployKeys | undefined;
  const parsed = deployKeysSchema.safeParse(input);
  if (parsed.success) {
    deploy = parsed.data;
  } else {
    const seen = new Set<string>();
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? 'deploy');
      if (seen.has(key) || opts.skip?.has(key)) continue;
      seen.add(key);
      const problem =
        input[key] === undefined
          ? 'is required'
          : issue.message.replace(/^Invalid input:?\s*/, '') || 'is malformed';
      issues.push(err(`${key} ${problem}${from(key)}`, key));
    }
  }
  if (blank(env.TCB_API_KEY_ID) !== blank(env.TCB_API_KEY)) {
    const missing = blank(env.TCB_API_KEY_ID) ? 'TCB_API_KEY_ID' : 'TCB_API_KEY';
    issues.push(err(`${missing} is required when the other half of the API key is set`, missing));
  }
  return { ...(deploy ? { deploy } : {}), issues };
}
