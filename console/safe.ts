/**
 * What the console may show. Secrets, callback tokens and their hashes never leave the server: task
 * documents lose the hash, log lines lose any credential-shaped field and every known secret value.
 */
import { redactSecrets } from '../shared/errors';

/** Field names that carry a credential or something derived from one. */
const SECRET_KEY = /token|secret|hash|signature|authorization|password/i;

export class Scrubber {
  private readonly values: string[];

  /** `secrets`: values to blank wherever they appear (the webhook secret, the Coze token, ...). */
  constructor(secrets: (string | undefined)[]) {
    // Short values would blank ordinary words; local defaults are long.
    this.values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  }

  /** Adds callback tokens and hashes as they become known (the stand-in's runs, the tasks). */
  remember(value: string | null | undefined): void {
    if (value && value.length >= 8 && !this.values.includes(value)) this.values.push(value);
  }

  text(s: string): string {
    let out = redactSecrets(s);
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  }

  /** A deep copy without secret-named fields, every string scrubbed; Dates become ISO strings. */
  value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k)) continue;
        out[k] = this.value(x);
      }
      return out;
    }
    return v;
  }
}
