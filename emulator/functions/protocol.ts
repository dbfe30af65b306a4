/** Messages between the pool (parent) and one function instance (child process). */

export interface LoadMessage {
  type: 'load';
  /** Absolute path of the module to require. */
  file: string;
  exportName: string;
}

export interface InvokeMessage {
  type: 'invoke';
  id: number;
  event: unknown;
  context: Record<string, unknown>;
  /** Per-invocation variables (caller identity, source); `unset` lists the ones to remove first. */
  env: Record<string, string>;
  unset: string[];
}

export type ParentMessage = LoadMessage | InvokeMessage;

export type ChildMessage =
  | { type: 'ready'; rss: number }
  | { type: 'load-error'; message: string }
  | { type: 'result'; id: number; ok: true; json: string; rss: number }
  | { type: 'result'; id: number; ok: false; message: string; rss: number }
  | { type: 'rss'; rss: number };
