/**
 * Refuses to start the local stack with a setting the functions would reject: the environment the
 * functions will get (the local defaults, then what is set) goes through the one schema of
 * shared/config.ts before anything is built or started, so a bad value stops `npm start` with its
 * key named instead of a ready banner and a sweeper failing every minute. Never prints a value.
 */
import { ConfigError, loadConfig } from '../shared/config';
import { pickDefined, productEnv } from './local-stack';

/** PORT as `npm start` reads it: unset means 3000, 0 any free port. */
export function portSetting(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.PORT?.trim();
  if (!raw) return 3000;
  return /^\d+$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : undefined;
}

/** One line per bad setting, `KEY problem`; empty when the stack may start. */
export function localSettingsProblems(
  processEnv: NodeJS.ProcessEnv,
  opts: { port?: boolean } = {},
): string[] {
  const problems: string[] = [];
  // The demo and the tests take any free port: only `npm start` reads PORT.
  const port = opts.port === false ? 3000 : portSetting(processEnv);
  if (port === undefined) problems.push('PORT must be a port number (0-65535)');
  const timer = processEnv.TIMER_OVERRIDE_S?.trim();
  if (timer && !(/^\d+(\.\d+)?$/.test(timer) && Number(timer) > 0)) {
    problems.push('TIMER_OVERRIDE_S must be a number of seconds above 0');
  }
  const { env } = productEnv(`http://127.0.0.1:${port || 3000}`, pickDefined(processEnv));
  try {
    loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // Each problem is worded `KEY problem`, never with the value.
    problems.push(...e.problems.map((p) => `${p.key} ${p.problem}`));
  }
  return problems;
}

/** Prints the problems, naming their keys, and exits 1; returns when every setting is valid. */
export function refuseInvalidSettings(
  command: string,
  processEnv: NodeJS.ProcessEnv,
  opts: { port?: boolean } = {},
): void {
  const problems = localSettingsProblems(processEnv, opts);
  if (!problems.length) return;
  console.error(`${command}: not started, invalid setting${problems.length > 1 ? 's' : ''}:`);
  for (const p of problems) console.error(`  - ${p}`);
  console.error('Fix or unset them (see .env.example); values are never printed.');
  process.exit(1);
}
