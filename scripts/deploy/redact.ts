import { redactSecrets } from '../../shared/errors';

/** Replaces every secret value by its name, then applies the shared pattern redactor. */
export function redact(text: string, secrets: Record<string, string | undefined>): string {
  let out = text;
  const pairs = Object.entries(secrets)
    .filter((p): p is [string, string] => typeof p[1] === 'string' && p[1].trim().length >= 4)
    .sort((a, b) => b[1].length - a[1].length);
  for (const [name, value] of pairs) out = out.split(value.trim()).join(`[${name}]`);
  return redactSecrets(out);
}
