/** The deploy's flags, through the shared command-line reader (node:util parseArgs). */
import { readCommandLine } from '../cli';
import { DIST_FUNCTIONS } from './facts';

export interface DeployArgs {
  dryRun: boolean;
  skipBuild: boolean;
  only?: string[];
  help: boolean;
}

export const USAGE = `usage: npm run deploy [-- --dry-run] [--skip-build] [--only <name>[,<name>]]
  --dry-run     every check the deploy makes (build, settings, cloudbaserc.json, bundles), all
                problems at once, and the plan; no login, no network, nothing deployed
  --skip-build  check the bundles already in ${DIST_FUNCTIONS}
  --only        deploy only these functions (all checks still run)
  -h, --help    this text
  exit 0 ready (dry run) or deployed; 1 a problem, each named; 2 bad flags (an unknown --only too)`;

const DEPLOY_COMMAND = {
  name: 'npm run deploy',
  usage: USAGE,
  options: {
    'dry-run': { type: 'boolean' },
    'skip-build': { type: 'boolean' },
    only: { type: 'string' },
  },
  allowPositionals: false,
} as const;

/** The flags, or the usage problem in words (`unknown option --nope`). */
export function parseArgs(argv: string[]): { args?: DeployArgs; error?: string } {
  const line = readCommandLine(DEPLOY_COMMAND, argv);
  if (!line.run) {
    if (line.code === 0) return { args: { dryRun: false, skipBuild: false, help: true } };
    const first = line.stderr.split('\n')[0] ?? '';
    return { error: first.slice(`${DEPLOY_COMMAND.name}: `.length) };
  }
  const { values } = line;
  const args: DeployArgs = {
    dryRun: values['dry-run'] ?? false,
    skipBuild: values['skip-build'] ?? false,
    help: false,
  };
  if (values.only !== undefined) {
    const only = values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!only.length) return { error: '--only needs a function name' };
    args.only = only;
  }
  return { args };
}
