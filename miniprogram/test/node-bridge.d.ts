/** Types of node-bridge.js (see there). */
export const miniprogramRoot: string;
export function nodeRequest(
  options: WechatMiniprogram.RequestOption,
): WechatMiniprogram.RequestTask;
export function nodeConnectSocket(
  options: WechatMiniprogram.ConnectSocketOption,
): WechatMiniprogram.SocketTask;
export function getJson(url: string): Promise<unknown>;
export interface RunningStack {
  url: string;
  stop(): Promise<void>;
}
export function startStack(options?: {
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<RunningStack>;
export function stackAvailable(): boolean;
export function buildInto(): {
  outDir: string;
  /** bytes per file, by path relative to outDir */
  sizes: Record<string, number>;
  remove(): void;
};
export function readText(file: string): string;
