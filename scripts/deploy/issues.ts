/** What every check returns: problems by level, naming a configuration key, never a value. */

export interface Issue {
  level: 'error' | 'warning';
  /** The configuration key concerned, when there is one. Never a value. */
  key?: string;
  message: string;
}

export const err = (message: string, key?: string): Issue => ({
  level: 'error',
  message,
  ...(key ? { key } : {}),
});
export const warn = (message: string, key?: string): Issue => ({
  level: 'warning',
  message,
  ...(key ? { key } : {}),
});

export const errorsOf = (issues: Issue[]) => issues.filter((i) => i.level === 'error');

export const blank = (v: string | undefined) => v === undefined || v.trim() === '';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
