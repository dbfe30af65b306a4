/**
 * Reads the local stack's database from its journals (`<dataDir>/db/<collection>.jsonl`, one put or
 * delete per line, appended by every write). Following a journal gives every write a document went
 * through, in order: the ground truth for "no backwards step". A restart compacts the journal into a
 * new file (new inode); the follower notices and reads the compacted states again (harmless repeats).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type Doc, isPlainObject, parseEJSON } from '../../emulator/database/ejson';

export interface JournalWrite {
  id: string;
  /** null: the document was removed */
  doc: Doc | null;
}

export class JournalFollower {
  private ino = -1;
  private consumed = 0;
  readonly writes: JournalWrite[] = [];

  constructor(
    private readonly dataDir: string,
    readonly collection: string,
  ) {}

  get file(): string {
    return join(this.dataDir, 'db', `${this.collection}.jsonl`);
  }

  /** Reads what was appended since the last call. */
  poll(): void {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return;
    }
    let buf: Buffer;
    try {
      const st = fstatSync(fd);
      if (st.ino !== this.ino || st.size < this.consumed) {
        this.ino = st.ino;
        this.consumed = 0;
      }
      const len = st.size - this.consumed;
      if (len <= 0) return;
      buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, this.consumed);
    } finally {
      closeSync(fd);
    }
    // Only whole lines: a write in progress is read next time.
    const end = buf.lastIndexOf(0x0a);
    if (end < 0) return;
    this.consumed += end + 1;
    for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const rec = parseEJSON(line);
      if (!isPlainObject(rec)) continue;
      if (isPlainObject(rec.p)) this.writes.push({ id: String(rec.p._id), doc: rec.p });
      else if ('d' in rec) this.writes.push({ id: String(rec.d), doc: null });
    }
  }

  /** The current documents (after a poll). */
  latest(): Map<string, Doc> {
    this.poll();
    const out = new Map<string, Doc>();
    for (const w of this.writes) {
      if (w.doc) out.set(w.id, w.doc);
      else out.delete(w.id);
    }
    return out;
  }

  /** Every version of one document, oldest first. */
  history(id: string): Doc[] {
    return this.writes.filter((w) => w.id === id && w.doc).map((w) => w.doc as Doc);
  }
}

/** The raw journal bytes of the collections, to prove that nothing was written at all. */
export function journalFingerprint(dataDir: string, collections: readonly string[]): string {
  return collections
    .map((c) => {
      const f = new JournalFollower(dataDir, c);
      f.poll();
      return `${c}:${f.writes.length}:${JSON.stringify(f.writes)}`;
    })
    .join('\n');
}
