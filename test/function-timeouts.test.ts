/** The config's documented floor for function lifetimes is what cloudbaserc.json deploys. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_TIMEOUT_S } from '../shared/config';

it('FUNCTION_TIMEOUT_S matches the timeouts in cloudbaserc.json', () => {
  const rc = JSON.parse(readFileSync(join(__dirname, '..', 'cloudbaserc.json'), 'utf8')) as {
    functions: { name: string; timeout: number }[];
  };
  expect(Object.fromEntries(rc.functions.map((f) => [f.name, f.timeout]))).toEqual(
    FUNCTION_TIMEOUT_S,
  );
});
