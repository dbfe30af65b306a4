/**
 * The zod every schema of the domain is written with: `zod/mini`, whose checks are functions, so a
 * bundle carries only the validators it uses (about a quarter of classic zod's size). Mini has no
 * messages of its own: the English ones are set here, because INVALID_INPUT's `detail` and the
 * config errors quote them (`expected string, received number`). Import it as
 * `import * as z from './zod'`: property reads on the namespace keep the bundle tree-shaken.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';

/**
 * `a.b.key` for each unknown key of an `unrecognized_keys` issue, for an answer or a log line that
 * names the field. A key that is not a short identifier (markup, a long text) is `a.b.(a field)`:
 * what the caller sent is never echoed beyond a plain name.
 */
export function unknownFieldPaths(path: readonly PropertyKey[], keys: readonly string[]): string[] {
  const prefix = path.length > 0 ? `${path.map(String).join('.')}.` : '';
  return keys
    .slice(0, 5)
    .map((k) => `${prefix}${/^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(k) ? k : '(a field)'}`);
}

/**
 * A stored time: a Date, ISO text or epoch milliseconds (each SDK path and a watch snapshot hand
 * back a different one), read as a Date; anything that is not a real instant is refused.
 */
export const dateLike = z.pipe(
  z.union([z.date(), z.string(), z.number()]),
  z.transform((v, ctx) => {
    const d = v instanceof Date ? v : new Date(v);
    if (Number.isNaN(d.getTime())) {
      ctx.issues.push({ code: 'custom', message: 'invalid date', input: v });
      return z.NEVER;
    }
    return d;
  }),
);
