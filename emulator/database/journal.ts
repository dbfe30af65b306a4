/**
 * The database on disk: one append-only journal per collection (`<dir>/<collection>.jsonl`, one put or
 * delete per line, compacted at start and when it grows), the intent record of a transaction commit
 * (`<dir>/TXN`), and the data dir's lock (`<dir>/LOCK`: one stack per data dir).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Doc, isPlainObject, parseEJSON, stringifyEJSON } from './ejson';
import { type BatchWrite, idKey } from './model';

const heldDirs = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `dir`'s lock for this process; throws when another stack (here or in a live process) has it. */
export function lockDataDir(dir: string): void {
  const lockFile = path.join(dir, 'LOCK');
  if (heldDirs.has(dir))
    throw new Error(`data dir ${dir} is already used by a running local stack`);
  try {
    const pid = Number(fs.readFileSync(lockFile, 'utf8'));
    if (pid && pid !== process.pid && pidAlive(pid)) {
      throw new Error(`data dir ${dir} is already used by a running local stack (pid ${pid})`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.writeFileSync(lockFile, String(process.pid));
  heldDirs.add(dir);
}

export function unlockDataDir(dir: string): void {
  heldDirs.delete(dir);
  try {
    fs.unlinkSync(path.join(dir, 'LOCK'));
  } catch {
    // already gone
  }
}

/** A journal record: a whole document put, or a delete by id. */
type JournalRecord = { p: Doc } | { d: unknown };

/** One collection's journal file. */
export class Journal {
  private fd = -1;
  private lines = 0;

  private constructor(readonly file: string) {}

  /** A new, empty journal. */
  static create(file: string): Journal {
    fs.writeFileSync(file, '');
    const j = new Journal(file);
    j.fd = fs.openSync(file, 'a');
    return j;
  }

  /**
   * Reads a journal into its documents, ignoring a torn last line (a crash mid-append), then compacts
   * it. Any other unreadable line is skipped with a warning.
   */
  static load(
    file: string,
    warn: (line: string) => void,
  ): { journal: Journal; docs: Map<string, Doc> } {
    const docs = new Map<string, Doc>();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const rec = parseEJSON(line);
        if (!isPlainObject(rec)) throw new Error('not an object');
        if (isPlainObject(rec.p)) docs.set(idKey(rec.p._id), rec.p);
        else if ('d' in rec) docs.delete(idKey(rec.d));
        else throw new Error('unknown record');
      } catch {
        if (i < lines.length - 2 || (i === lines.length - 2 && lines[lines.length - 1] !== '')) {
          warn(`skipped unreadable journal line ${i + 1}`);
        }
      }
    });
    const journal = new Journal(file);
    journal.compact(docs);
    return { journal, docs };
  }

  /** Rewrites the journal with one line per live document (write temp, fsync, rename: never a half file). */
  compact(docs: Map<string, Doc>): void {
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    const tmp = `${this.file}.tmp`;
    let body = '';
    for (const doc of docs.values()) body += `${stringifyEJSON({ p: doc })}\n`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.file);
    this.lines = docs.size;
    this.fd = fs.openSync(this.file, 'a');
  }

  /** Appends puts and deletes in one write(2): a crash tears at most the tail, which load() ignores. */
  append(records: JournalRecord[], docs: Map<string, Doc>): void {
    if (!records.length) return;
    let text = '';
    for (const r of records) text += `${stringifyEJSON(r)}\n`;
    fs.writeSync(this.fd, text);
    this.lines += records.length;
    if (this.lines > 1000 && this.lines > docs.size * 4) this.compact(docs);
  }

  sync(): void {
    if (this.fd >= 0) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** The intent record of a commit in progress: written (fsync) before any journal, removed after. */
export const intent = {
  write(dir: string, writes: BatchWrite[]): void {
    const file = path.join(dir, 'TXN');
    const body = writes
      .map((w) =>
        stringifyEJSON(w.after ? { c: w.collection, p: w.after } : { c: w.collection, d: w.id }),
      )
      .join('\n');
    const fd = fs.openSync(`${file}.tmp`, 'w');
    fs.writeSync(fd, body);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(`${file}.tmp`, file);
  },

  /** The writes of a commit a crash interrupted, or null when none was. */
  read(dir: string): BatchWrite[] | null {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, 'TXN'), 'utf8');
    } catch {
      return null;
    }
    const writes: BatchWrite[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const rec = parseEJSON(line);
      if (!isPlainObject(rec) || typeof rec.c !== 'string') continue;
      if (isPlainObject(rec.p)) writes.push({ collection: rec.c, id: rec.p._id, after: rec.p });
      else writes.push({ collection: rec.c, id: rec.d, after: null });
    }
    return writes;
  },

  clear(dir: string): void {
    try {
      fs.unlinkSync(path.join(dir, 'TXN'));
    } catch {
      // already removed
    }
  },
};
