/**
 * Structured log lines (one JSON object per line, as CloudBase's log search indexes them). Every
 * line passes through the redactor; callers log ids and outcomes, never headers, bodies or tokens.
 */
import { redactSecrets } from '../../shared/errors';

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export function createLogger(fn: string, sink: (line: string) => void = console.log): Logger {
  const write = (level: string, event: string, fields?: LogFields) =>
    sink(redactSecrets(JSON.stringify({ level, fn, event, ...fields })));
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
  };
}
