/**
 * `npm run db:init [-- --dry-run]`
 *
 * Makes the cloud database match database/collections.json: each collection exists, has its
 * indexes and its security rule. Idempotent: it reads what is there first and only adds what is
 * missing; an index whose name is taken by different keys is reported, never dropped.
 *
 * - With TCB_API_KEY_ID, TCB_API_KEY and ENV_ID (from .env or the environment): applies the file
 *   through @cloudbase/manager-node (`database.listCollections / createCollection /
 *   describeCollection / updateCollection({CreateIndexes})` and the tcb API actions
 *   `DescribeSafeRule` / `ModifySafeRule` through `commonService('tcb')`). Exit 0 when in sync.
 * - Without the API key: prints the exact console steps and exits 2 (nothing was applied).
 * - `--dry-run`: validates the file and prints the plan; no keys, no network. Exit 0.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { checkDeployKeys } from './deploy/keys';
import { ROOT } from './deploy/facts';
import { redact } from './deploy/redact';
import { readCommandLine } from './cli';
import { resolveEnv } from './env-file';

export const COLLECTIONS_FILE = 'database/collections.json';

// ---------------------------------------------------------------------------------------------
// The file

const keySchema = z.strictObject({
  field: z.string().regex(/^[A-Za-z_][\w.]*$/, 'must be a field name (dots for nested fields)'),
  direction: z.union([z.literal(1), z.literal(-1)]),
});

const indexSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be letters, digits and _'),
  keys: z.array(keySchema).min(1),
  unique: z.boolean().optional(),
  why: z.string().optional(),
});

const ruleValue = z.union([z.boolean(), z.string().min(1)]);
const ruleSchema = z.strictObject({
  read: ruleValue,
  write: ruleValue.optional(),
  create: ruleValue.optional(),
  update: ruleValue.optional(),
  delete: ruleValue.optional(),
});

const collectionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be a collection name'),
  rule: ruleSchema,
  indexes: z.array(indexSchema),
});

const fileSchema = z.strictObject({
  $comment: z.string().optional(),
  collections: z.array(collectionSchema).min(1),
});

export type IndexSpec = z.infer<typeof indexSchema>;
export type RuleSpec = z.infer<typeof ruleSchema>;
export type CollectionSpec = z.infer<typeof collectionSchema>;
export type CollectionsFile = z.infer<typeof fileSchema>;

export const keySignature = (keys: { field: string; direction: number }[]) =>
  keys.map((k) => `${k.field}:${k.direction}`).join(',');

/** Parses and checks database/collections.json; problems are returned, not thrown. */
export function parseCollections(text: string): { spec?: CollectionsFile; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { problems: [`${COLLECTIONS_FILE} is not valid JSON`] };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map(
        (i) => `${COLLECTIONS_FILE}: ${i.path.join('.') || '(root)'} ${i.message}`,
      ),
    };
  }
  const problems: string[] = [];
  const names = parsed.data.collections.map((c) => c.name);
  for (const n of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    problems.push(`${COLLECTIONS_FILE}: collection ${n} appears twice`);
  }
  for (const c of parsed.data.collections) {
    const seenNames = new Set<string>();
    const seenKeys = new Map<string, string>();
    for (const idx of c.indexes) {
      if (seenNames.has(idx.name)) problems.push(`${c.name}: index name ${idx.name} appears twice`);
      seenNames.add(idx.name);
      const sig = keySignature(idx.keys);
      const other = seenKeys.get(sig);
      if (other) problems.push(`${c.name}: indexes ${other} and ${idx.name} have the same keys`);
      seenKeys.set(sig, idx.name);
      const fields = idx.keys.map((k) => k.field);
      if (new Set(fields).size !== fields.length)
        problems.push(`${c.name}.${idx.name}: a field appears twice`);
      if (fields.length === 1 && fields[0] === '_id') {
        problems.push(`${c.name}.${idx.name}: _id is always indexed`);
      }
    }
  }
  return problems.length ? { problems } : { spec: parsed.data, problems };
}

export function loadCollections(root = ROOT): { spec?: CollectionsFile; problems: string[] } {
  try {
    return parseCollections(fs.readFileSync(path.join(root, COLLECTIONS_FILE), 'utf8'));
  } catch {
    return { problems: [`${COLLECTIONS_FILE} is missing`] };
  }
}

// ---------------------------------------------------------------------------------------------
// Applying it

export interface ExistingIndex {
  name: string;
  keys: { field: string; direction: number }[];
  unique: boolean;
}

export interface RuleState {
  /** READONLY, PRIVATE, ADMINWRITE, ADMINONLY or CUSTOM. */
  aclTag: string;
  /** The parsed custom rule, when there is one. */
  rule: unknown;
}

/** What db:init needs from the cloud; the real one wraps @cloudbase/manager-node. */
export interface DbAdmin {
  listCollections(): Promise<string[]>;
  createCollection(name: string): Promise<void>;
  describeIndexes(collection: string): Promise<ExistingIndex[]>;
  createIndex(collection: string, index: IndexSpec): Promise<void>;
  describeRule(collection: string): Promise<RuleState>;
  setRule(collection: string, rule: RuleSpec): Promise<void>;
}

export interface ApplyReport {
  changed: string[];
  unchanged: string[];
  conflicts: string[];
  failures: string[];
}

/** Key-order-insensitive equality for rule JSON. */
export function sameJson(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
          .map(([k, x]) => [k, norm(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function applySpec(
  spec: CollectionsFile,
  admin: DbAdmin,
  log: (line: string) => void,
): Promise<ApplyReport> {
  const report: ApplyReport = { changed: [], unchanged: [], conflicts: [], failures: [] };
  const did = (what: string) => {
    report.changed.push(what);
    log(`  + ${what}`);
  };
  const same = (what: string) => {
    report.unchanged.push(what);
    log(`  = ${what}`);
  };
  const fail = (what: string, e: unknown) => {
    const m = `${what}: ${messageOf(e)}`;
    report.failures.push(m);
    log(`  ! ${m}`);
  };

  let existing: string[];
  try {
    existing = await admin.listCollections();
  } catch (e) {
    fail('list collections (check the API key, ENV_ID and TCB_REGION)', e);
    return report;
  }

  for (const c of spec.collections) {
    log(`${c.name}:`);
    if (existing.includes(c.name)) {
      same(`collection ${c.name} exists`);
    } else {
      try {
        await admin.createCollection(c.name);
        did(`collection ${c.name} created`);
      } catch (e) {
        fail(`create collection ${c.name}`, e);
        continue;
      }
    }

    let indexes: ExistingIndex[];
    try {
      indexes = await admin.describeIndexes(c.name);
    } catch (e) {
      fail(`read the indexes of ${c.name}`, e);
      continue;
    }
    for (const idx of c.indexes) {
      const sig = keySignature(idx.keys);
      const unique = idx.unique ?? false;
      const sameKeys = indexes.find((i) => keySignature(i.keys) === sig);
      const sameName = indexes.find((i) => i.name === idx.name);
      if (sameKeys && sameKeys.unique === unique) {
        same(
          `index ${c.name}.${idx.name}${sameKeys.name !== idx.name ? ` (present as ${sameKeys.name})` : ''}`,
        );
      } else if (sameKeys) {
        report.conflicts.push(
          `${c.name}: index ${sameKeys.name} has the keys of ${idx.name} but unique=${String(sameKeys.unique)}; drop it in the console (索引管理) and run again`,
        );
        log(`  ! conflict: ${c.name}.${sameKeys.name} unique flag differs`);
      } else if (sameName) {
        report.conflicts.push(
          `${c.name}: index name ${idx.name} is taken by keys ${keySignature(sameName.keys)}; drop it in the console (索引管理) and run again`,
        );
        log(`  ! conflict: ${c.name}.${idx.name} exists with other keys`);
      } else {
        try {
          await admin.createIndex(c.name, idx);
          did(`index ${c.name}.${idx.name} (${sig}) created`);
        } catch (e) {
          fail(`create index ${c.name}.${idx.name}`, e);
        }
      }
    }

    let current: RuleState | null;
    try {
      current = await admin.describeRule(c.name);
    } catch {
      current = null;
    }
    if (current && current.aclTag === 'CUSTOM' && sameJson(current.rule, c.rule)) {
      same(`rule of ${c.name}`);
      continue;
    }
    try {
      await admin.setRule(c.name, c.rule);
      const after = await admin.describeRule(c.name);
      if (after.aclTag !== 'CUSTOM' || !sameJson(after.rule, c.rule)) {
        fail(`rule of ${c.name}`, new Error('set, but reading it back gives something else'));
      } else {
        did(`rule of ${c.name} set to ${JSON.stringify(c.rule)}`);
      }
    } catch (e) {
      fail(`set the rule of ${c.name}`, e);
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// The real admin: @cloudbase/manager-node

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function parseRule(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export async function managerAdmin(opts: {
  secretId: string;
  secretKey: string;
  envId: string;
  region?: string;
  timeoutMs?: number;
}): Promise<DbAdmin> {
  const { default: CloudBase } = await import('@cloudbase/manager-node');
  const app = new CloudBase({
    secretId: opts.secretId,
    secretKey: opts.secretKey,
    envId: opts.envId,
    ...(opts.region ? { region: opts.region } : {}),
  });
  const db = app.database;
  const tcb = app.commonService('tcb', '2018-06-08');
  const ms = opts.timeoutMs ?? 30_000;
  return {
    async listCollections() {
      const names: string[] = [];
      const limit = 100;
      for (let offset = 0; offset < 10_000; offset += limit) {
        const res = await withTimeout(
          db.listCollections({ MgoLimit: limit, MgoOffset: offset }),
          ms,
          'ListTables',
        );
        const page = res.Collections ?? [];
        names.push(...page.map((c) => c.CollectionName));
        if (page.length < limit || names.length >= (res.Pager?.Total ?? 0)) break;
      }
      return names;
    },
    async createCollection(name) {
      await withTimeout(db.createCollection(name), ms, 'CreateTable');
    },
    async describeIndexes(collection) {
      const res = await withTimeout(db.describeCollection(collection), ms, 'DescribeTable');
      return (res.Indexes ?? []).map((i) => ({
        name: i.Name,
        keys: (i.Keys ?? []).map((k) => ({ field: k.Name ?? '', direction: Number(k.Direction) })),
        unique: Boolean(i.Unique),
      }));
    },
    async createIndex(collection, index) {
      await withTimeout(
        db.updateCollection(collection, {
          CreateIndexes: [
            {
              IndexName: index.name,
              MgoKeySchema: {
                MgoIsUnique: index.unique ?? false,
                MgoIndexKeys: index.keys.map((k) => ({
                  Name: k.field,
                  Direction: String(k.direction),
                })),
              },
            },
          ],
        }),
        ms,
        'UpdateTable',
      );
    },
    async describeRule(collection) {
      const res: unknown = await withTimeout(
        tcb.call({
          Action: 'DescribeSafeRule',
          Param: { EnvId: opts.envId, CollectionName: collection },
        }),
        ms,
        'DescribeSafeRule',
      );
      const r = (res ?? {}) as { AclTag?: unknown; Rule?: unknown };
      return { aclTag: String(r.AclTag ?? ''), rule: parseRule(r.Rule) };
    },
    async setRule(collection, rule) {
      await withTimeout(
        tcb.call({
          Action: 'ModifySafeRule',
          Param: {
            EnvId: opts.envId,
            CollectionName: collection,
            AclTag: 'CUSTOM',
            Rule: JSON.stringify(rule),
          },
        }),
        ms,
        'ModifySafeRule',
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Plan and console steps

const dir = (d: number) => (d === 1 ? 'ascending/升序' : 'descending/降序');

export function formatPlan(spec: CollectionsFile, envId: string | undefined): string[] {
  const out = [`Database plan for ${envId ?? '<ENV_ID>'} (${COLLECTIONS_FILE}):`];
  for (const c of spec.collections) {
    out.push(`  ${c.name}`);
    out.push(`    rule: ${JSON.stringify(c.rule)}`);
    for (const i of c.indexes) {
      out.push(
        `    index ${i.name}: ${i.keys.map((k) => `${k.field} ${k.direction === 1 ? 'asc' : 'desc'}`).join(', ')}${
          i.unique ? ' (unique)' : ''
        }`,
      );
    }
  }
  return out;
}

export function consoleSteps(spec: CollectionsFile, envId: string | undefined): string[] {
  const env = envId ?? '<ENV_ID>';
  const out = [
    `In the CloudBase console (or WeChat DevTools -> 云开发 -> 数据库), environment ${env}.`,
    'Do each step only if it is not already so; nothing below deletes data.',
  ];
  let n = 0;
  for (const c of spec.collections) {
    out.push('');
    out.push(`Collection ${c.name}:`);
    out.push(`  ${++n}. 数据库 (文档型) -> 新建集合 (add collection): ${c.name}`);
    if (c.indexes.length) {
      out.push(
        `  ${++n}. ${c.name} -> 索引管理 (indexes) -> 新建索引, one per line, 非唯一 (not unique) unless marked:`,
      );
      for (const i of c.indexes) {
        out.push(
          `       ${i.name}: ${i.keys.map((k) => `${k.field} ${dir(k.direction)}`).join(', ')}${
            i.unique ? ' [唯一/unique]' : ''
          }`,
        );
      }
    }
    out.push(
      `  ${++n}. ${c.name} -> 权限设置 (permissions) -> 自定义安全规则 (custom rule), paste exactly:`,
    );
    out.push(`       ${JSON.stringify(c.rule)}`);
  }
  out.push('');
  out.push(
    'Or set TCB_API_KEY_ID and TCB_API_KEY (a CAM key allowed to manage this environment) and run npm run db:init.',
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// main

export interface DbInitOptions {
  root?: string;
  argv: string[];
  processEnv: Record<string, string | undefined>;
  out?: (line: string) => void;
  /** Where a usage error goes; default stderr. */
  errOut?: (line: string) => void;
  /** Builds the admin from the keys; default uses @cloudbase/manager-node. */
  admin?: (keys: {
    secretId: string;
    secretKey: string;
    envId: string;
    region?: string;
  }) => Promise<DbAdmin>;
}

export const DB_INIT_USAGE = `usage: npm run db:init [-- --dry-run]
  --dry-run   validate ${COLLECTIONS_FILE} and print the plan; no keys, no network
  -h, --help  this text
  without TCB_API_KEY_ID/TCB_API_KEY: prints the console steps and exits 2`;

export const DB_INIT_COMMAND = {
  name: 'npm run db:init',
  usage: DB_INIT_USAGE,
  options: { 'dry-run': { type: 'boolean' } },
  allowPositionals: false,
} as const;

export async function main(opts: DbInitOptions): Promise<number> {
  const root = opts.root ?? ROOT;
  const out = opts.out ?? ((l: string) => console.log(l));
  const line = readCommandLine(DB_INIT_COMMAND, opts.argv);
  if (!line.run) {
    // --help on stdout; a usage error on stderr, exit 2.
    const print = line.code === 0 ? out : (opts.errOut ?? ((l: string) => console.error(l)));
    print((line.stdout || line.stderr).trimEnd());
    return line.code;
  }
  const dryRun = line.values['dry-run'] ?? false;

  const { spec, problems } = loadCollections(root);
  if (!spec) {
    for (const p of problems) out(`  - ${p}`);
    out('db:init: nothing applied.');
    return 1;
  }

  const env = resolveEnv(root, opts.processEnv).values;
  // Only the deploy-only keys matter here: ENV_ID, the API key and the region.
  const keyIssues = checkDeployKeys(env).issues.filter((i) => i.level === 'error');
  const envId = env.ENV_ID?.trim() || undefined;

  for (const l of formatPlan(spec, envId)) out(l);
  if (dryRun) {
    out('');
    out('Dry run: the file is valid; nothing was read or changed in the cloud.');
    return 0;
  }

  const secretId = env.TCB_API_KEY_ID?.trim();
  const secretKey = env.TCB_API_KEY?.trim();
  if (!secretId || !secretKey) {
    out('');
    out('TCB_API_KEY_ID / TCB_API_KEY are not set: nothing was applied. Do it by hand:');
    out('');
    for (const l of consoleSteps(spec, envId)) out(l);
    return 2;
  }
  if (keyIssues.length || !envId) {
    out('');
    for (const i of keyIssues) out(`  - ${i.message}`);
    if (!envId && !keyIssues.some((i) => i.key === 'ENV_ID')) out('  - ENV_ID is required');
    out('db:init: nothing applied.');
    return 1;
  }

  const secrets = { TCB_API_KEY: secretKey, TCB_API_KEY_ID: secretId };
  const region = env.TCB_REGION?.trim() || undefined;
  out('');
  out(`Applying to ${envId}${region ? ` (${region})` : ''}:`);
  let admin: DbAdmin;
  try {
    admin = await (opts.admin ?? managerAdmin)({
      secretId,
      secretKey,
      envId,
      ...(region ? { region } : {}),
    });
  } catch (e) {
    out(`db:init: ${redact(messageOf(e), secrets)}`);
    return 1;
  }
  const report = await applySpec(spec, admin, (l) => out(redact(l, secrets)));
  out('');
  out(
    `${report.changed.length} change(s), ${report.unchanged.length} already in place, ` +
      `${report.conflicts.length} conflict(s), ${report.failures.length} failure(s).`,
  );
  for (const c of report.conflicts) out(`  conflict: ${c}`);
  for (const f of report.failures) out(`  failure: ${redact(f, secrets)}`);
  if (report.conflicts.length || report.failures.length) return 1;
  out('Database in sync with the file. Indexes build in the background on large collections.');
  return 0;
}

if (require.main === module) {
  main({ argv: process.argv.slice(2), processEnv: process.env }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`db:init: ${messageOf(e)}`);
      process.exit(1);
    },
  );
}
