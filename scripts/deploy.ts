/**
 * `npm run deploy [-- --dry-run] [--skip-build] [--only <name,...>]`: the entry. The deploy is in
 * scripts/deploy/, one module per job: facts.ts (what the design and the platform fix), env-check.ts
 * and keys.ts (the settings), rc.ts and render.ts (cloudbaserc.json, and as tcb renders it),
 * cross-checks.ts, bundles.ts, plan.ts, tcb.ts (running tcb and reading its output), args.ts,
 * main.ts (the named steps).
 */
import { main } from './deploy/main';

if (require.main === module) {
  main({ argv: process.argv.slice(2), processEnv: process.env }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`deploy: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
