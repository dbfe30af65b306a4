/** Types of files.js (see there). */
export const repoRoot: string;
export const htmlDir: string;
export function writeText(file: string, text: string): void;
export function tempDir(): string;
export function removeDir(dir: string): void;
export function runShooter(
  args: string[],
  timeoutMs: number,
): { status: number | null; stdout: string; stderr: string };
export function readJson(file: string): unknown;
export function readText(file: string): string;
export function pngSize(file: string): { width: number; height: number; bytes: number } | null;
