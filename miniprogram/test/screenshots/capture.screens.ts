/**
 * Step one of `npm run screenshots`: renders every state of states.ts and writes its HTML, with
 * a manifest of names and captions, for scripts/screenshots/shoot.ts. Not part of `npm test`
 * (its name is no *.test.ts); screenshots.test.ts checks the whole way on one state.
 */
import '../setup';
import { htmlDir, writeText } from './files';
import { STATES, manifestEntry, renderState } from './states';

const manifest: ReturnType<typeof manifestEntry>[] = [];

afterAll(() => {
  writeText(`${htmlDir}/manifest.json`, JSON.stringify(manifest, null, 2) + '\n');
});

for (const state of STATES) {
  it(
    state.name,
    async () => {
      writeText(`${htmlDir}/${state.name}.body.html`, await renderState(state));
      manifest.push(manifestEntry(state));
    },
    30_000,
  );
}
