/**
 * The stand-in's runs, kept in `<dataDir>/coze-standin.json` (written atomically, coalesced), so
 * run history survives a restart and unfinished runs carry on from their start time.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeSchema, type StandinRun } from './runs';

const STORE_FILE = 'coze-standin.json';
// Coze keeps run history about 7 days.
const HISTORY_KEEP_MS = 7 * 24 * 3600 * 1000;
const PERSIST_DEBOUNCE_MS = 25;
const MAX_KEPT_RUNS = 5000;

export class RunStore {
  readonly runs = new Map<string, StandinRun>();
  private readonly path: string;
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    dataDir: string,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {
    this.path = join(dataDir, STORE_FILE);
    mkdirSync(dataDir, { recursive: true });
    this.load();
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    let parsed;
    try {
      parsed = storeSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      // Keep the unreadable file for a human and start empty rather than refuse to start.
      const aside = `${this.path}.unreadable-${this.now()}`;
      renameSync(this.path, aside);
      this.log(`stored runs unreadable; moved to ${aside}`);
      return;
    }
    const keepAfter = this.now() - HISTORY_KEEP_MS;
    for (const run of parsed.data.runs) {
      if (run.startedAt >= keepAfter) this.runs.set(run.executeId, run);
    }
  }

  /** Writes the store now: a temporary file renamed over the old one. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const keepAfter = this.now() - HISTORY_KEEP_MS;
    for (const [id, run] of this.runs) if (run.startedAt < keepAfter) this.runs.delete(id);
    // Oldest first (insertion order): drop the oldest beyond the cap so the file stays small.
    for (const id of this.runs.keys()) {
      if (this.runs.size <= MAX_KEPT_RUNS) break;
      this.runs.delete(id);
    }
    const tmp = `${this.path}.${process.pid}.${randomUUID()}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, runs: [...this.runs.values()] }));
    // rename is atomic on one filesystem: a reader or a crash sees the old file or the new one.
    renameSync(tmp, this.path);
  }

  /**
   * Coalesces writes: a benchmark's hundreds of runs would otherwise rewrite the whole file on
   * every callback. A crash inside the window at worst re-sends a step on resume.
   */
  persist(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      try {
        this.flush();
      } catch (err) {
        // A full disk must not crash the local stack from a timer; the next write tries again.
        this.log(
          `could not write ${this.path}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }, PERSIST_DEBOUNCE_MS);
  }
}
