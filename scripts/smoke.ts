/**
 * `npm run smoke [-- --local | --print-test-inputs | --share-text "<text>"]`: the operator's
 * end-to-end check of a deployment (scripts/smoke/: the hops, and what each proves).
 */
import { main } from './smoke/main';

if (require.main === module) {
  main({ argv: process.argv.slice(2), processEnv: process.env }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`smoke: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
