import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { COLLECTIONS } from '../cloudfunctions/_adapters/database';
import {
  applySpec,
  consoleSteps,
  keySignature,
  loadCollections,
  main,
  parseCollections,
  sameJson,
  type CollectionsFile,
  type DbAdmin,
  type ExistingIndex,
  type IndexSpec,
  type RuleSpec,
  type RuleState,
} from './db-init';
import { ROOT } from './deploy/facts';

const loaded = loadCollections(ROOT);
const spec = loaded.spec as CollectionsFile;
const byName = (name: string) => {
  const c = spec.collections.find((x) => x.name === name);
  if (!c) throw new Error(name);
  return c;
};

describe('database/collections.json', () => {
  it('is valid and names exactly the collections the code uses', () => {
    expect(loaded.problems).toEqual([]);
    expect(spec.collections.map((c) => c.name).sort()).toEqual([...COLLECTIONS].sort());
  });

  it('carries the security rules of the design', () => {
    expect(byName('tasks').rule).toEqual({ read: 'doc._openid == auth.openid', write: false });
    expect(byName('ledgers').rule).toEqual({ read: false, write: false });
    // The queue's one document has no user data: any signed-in user may watch it.
    expect(byName('queue').rule).toEqual({ read: 'auth.openid != null', write: false });
  });

  // The queries in cloudfunctions/_adapters/database.ts, each served by an index whose keys start with
  // the query's equality fields then its sort/range field.
  it.each([
    ['tasks', '_openid:1,created_at:-1,_id:-1'],
    ['tasks', 'status:1,next_dispatch_at:1'],
    ['tasks', 'status:1,expires_at:1'],
    ['tasks', 'status:1,updated_at:1'],
    ['tasks', 'status:1,notification_state:1,updated_at:1'],
    ['tasks', 'notification_state:1,notification_claimed_at:1'],
    ['tasks', 'coze_execute_id:1'],
    ['tasks', 'created_at:1'],
    ['ledgers', 'updated_at:1'],
  ])('%s has an index on %s', (collection, keys) => {
    expect(byName(collection).indexes.map((i) => keySignature(i.keys))).toContain(keys);
  });

  it('needs no index for request ids (encoded in _id)', () => {
    const fields = spec.collections.flatMap((c) =>
      c.indexes.flatMap((i) => i.keys.map((k) => k.field)),
    );
    expect(fields).not.toContain('request_id');
  });
});

describe('parseCollections', () => {
  const base = () =>
    JSON.parse(fs.readFileSync(path.join(ROOT, 'database', 'collections.json'), 'utf8')) as {
      collections: { name: string; indexes: { name: string; keys: unknown[] }[] }[];
    };

  it('refuses bad JSON, unknown fields, bad directions, duplicates', () => {
    expect(parseCollections('{').problems[0]).toContain('not valid JSON');
    const extra = base();
    (extra.collections[0] as Record<string, unknown>).acl = 'x';
    expect(parseCollections(JSON.stringify(extra)).problems.join()).toContain('acl');
    const dir = base();
    dir.collections[0]?.indexes[0]?.keys.splice(0, 1, { field: 'x', direction: 2 });
    expect(parseCollections(JSON.stringify(dir)).spec).toBeUndefined();
    const dup = base();
    const first = dup.collections[0]?.indexes[0];
    if (first) dup.collections[0]?.indexes.push({ ...first, name: 'copy' });
    expect(parseCollections(JSON.stringify(dup)).problems.join()).toContain('have the same keys');
    const twice = base();
    const c0 = twice.collections[0];
    if (c0) twice.collections.push(c0);
    expect(parseCollections(JSON.stringify(twice)).problems.join()).toContain('appears twice');
  });
});

/** An in-memory CloudBase database admin. */
class FakeAdmin implements DbAdmin {
  collections = new Map<string, ExistingIndex[]>();
  rules = new Map<string, RuleState>();
  calls: string[] = [];
  failIndex?: string;

  async listCollections() {
    this.calls.push('list');
    return [...this.collections.keys()];
  }
  async createCollection(name: string) {
    this.calls.push(`create ${name}`);
    // a new collection has the _id index and the default rule
    this.collections.set(name, [
      { name: '_id_', keys: [{ field: '_id', direction: 1 }], unique: true },
    ]);
    this.rules.set(name, { aclTag: 'ADMINONLY', rule: null });
  }
  async describeIndexes(collection: string) {
    return [...(this.collections.get(collection) ?? [])];
  }
  async createIndex(collection: string, index: IndexSpec) {
    this.calls.push(`index ${collection}.${index.name}`);
    if (index.name === this.failIndex) throw new Error('InternalError: try later');
    this.collections
      .get(collection)
      ?.push({ name: index.name, keys: index.keys, unique: Boolean(index.unique) });
  }
  async describeRule(collection: string) {
    return this.rules.get(collection) ?? { aclTag: 'ADMINONLY', rule: null };
  }
  async setRule(collection: string, rule: RuleSpec) {
    this.calls.push(`rule ${collection}`);
    // the cloud stores the rule as a string; key order is not kept
    this.rules.set(collection, {
      aclTag: 'CUSTOM',
      rule: JSON.parse(JSON.stringify({ write: rule.write, ...rule })),
    });
  }
}

describe('applySpec', () => {
  const indexCount = spec.collections.reduce((n, c) => n + c.indexes.length, 0);

  it('creates everything once, then changes nothing (idempotent)', async () => {
    const admin = new FakeAdmin();
    const first = await applySpec(spec, admin, () => undefined);
    expect(first.failures).toEqual([]);
    expect(first.conflicts).toEqual([]);
    expect(first.changed).toHaveLength(spec.collections.length * 2 + indexCount);
    const before = admin.calls.length;
    const second = await applySpec(spec, admin, () => undefined);
    expect(second.changed).toEqual([]);
    expect(second.unchanged).toHaveLength(spec.collections.length * 2 + indexCount);
    expect(admin.calls.slice(before)).toEqual(['list']);
  });

  it('keeps an equivalent index under another name and never drops a conflicting one', async () => {
    const admin = new FakeAdmin();
    await applySpec(spec, admin, () => undefined);
    const tasks = admin.collections.get('tasks') ?? [];
    const i = tasks.findIndex((x) => x.name === 'created_at');
    tasks.splice(i, 1, {
      name: 'legacy_created',
      keys: [{ field: 'created_at', direction: 1 }],
      unique: false,
    });
    const j = tasks.findIndex((x) => x.name === 'coze_execute_id');
    tasks.splice(j, 1, {
      name: 'coze_execute_id',
      keys: [{ field: 'other', direction: 1 }],
      unique: false,
    });
    const r = await applySpec(spec, admin, () => undefined);
    expect(r.changed).toEqual([]);
    expect(r.unchanged).toContain('index tasks.created_at (present as legacy_created)');
    expect(r.conflicts).toEqual([expect.stringContaining('index name coze_execute_id is taken')]);
    expect(admin.collections.get('tasks')?.some((x) => x.name === 'coze_execute_id')).toBe(true);
  });

  it('replaces a simple permission by the custom rule', async () => {
    const admin = new FakeAdmin();
    await applySpec(spec, admin, () => undefined);
    admin.rules.set('tasks', { aclTag: 'PRIVATE', rule: null });
    const r = await applySpec(spec, admin, () => undefined);
    expect(r.changed).toEqual([
      `rule of tasks set to {"read":"doc._openid == auth.openid","write":false}`,
    ]);
  });

  it('a failed index is reported and the rest still applies', async () => {
    const admin = new FakeAdmin();
    admin.failIndex = 'status_expires';
    const r = await applySpec(spec, admin, () => undefined);
    expect(r.failures).toEqual([
      expect.stringContaining('create index tasks.status_expires: InternalError'),
    ]);
    expect(r.changed).toHaveLength(spec.collections.length * 2 + indexCount - 1);
  });

  it('a failed listing stops before any change', async () => {
    const admin = new FakeAdmin();
    admin.listCollections = async () => {
      throw new Error('AuthFailure.SecretIdNotFound');
    };
    const r = await applySpec(spec, admin, () => undefined);
    expect(r.failures).toEqual([expect.stringContaining('AuthFailure')]);
    expect(admin.calls).toEqual([]);
  });

  it('sameJson ignores key order', () => {
    expect(sameJson({ write: false, read: 'a' }, { read: 'a', write: false })).toBe(true);
    expect(sameJson({ read: false }, { read: false, write: false })).toBe(false);
  });
});

describe('main', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'dbinit-'));
    fs.mkdirSync(path.join(root, 'database'));
    fs.copyFileSync(
      path.join(ROOT, 'database', 'collections.json'),
      path.join(root, 'database', 'collections.json'),
    );
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const run = async (argv: string[], env: Record<string, string | undefined>, admin?: DbAdmin) => {
    const lines: string[] = [];
    let built = 0;
    const code = await main({
      root,
      argv,
      processEnv: env,
      out: (l) => lines.push(l),
      admin: async () => {
        built++;
        if (!admin) throw new Error('no admin in this test');
        return admin;
      },
    });
    return { code, out: lines.join('\n'), built };
  };
  const keys = {
    ENV_ID: 'prod-7g2k9x',
    TCB_API_KEY_ID: 'AKIDabcdefgh12345678',
    TCB_API_KEY: 'S3cretKeyValue0123456789',
  };

  it('--dry-run prints the plan offline, without keys', async () => {
    const r = await run(['--dry-run'], {});
    expect(r.code).toBe(0);
    expect(r.built).toBe(0);
    expect(r.out).toContain('index openid_created_id: _openid asc, created_at desc, _id desc');
    expect(r.out).toContain('rule: {"read":"doc._openid == auth.openid","write":false}');
  });

  it('without API keys prints the console steps and exits 2', async () => {
    const r = await run([], { ENV_ID: 'prod-7g2k9x' });
    expect(r.code).toBe(2);
    expect(r.built).toBe(0);
    for (const line of consoleSteps(spec, 'prod-7g2k9x')) expect(r.out).toContain(line);
    for (const c of spec.collections) {
      expect(r.out).toContain(JSON.stringify(c.rule));
      for (const i of c.indexes) expect(r.out).toContain(`${i.name}:`);
    }
  });

  it('with API keys applies through the admin and exits 0; again changes nothing', async () => {
    const admin = new FakeAdmin();
    const first = await run([], keys, admin);
    expect(first.code).toBe(0);
    expect(first.out).toContain('Database in sync');
    const second = await run([], keys, admin);
    expect(second.code).toBe(0);
    expect(second.out).toContain('0 change(s)');
    expect(first.out + second.out).not.toContain(keys.TCB_API_KEY);
  });

  it('a failure exits 1 and never prints the key', async () => {
    const admin = new FakeAdmin();
    admin.listCollections = async () => {
      throw new Error(`AuthFailure for ${keys.TCB_API_KEY}`);
    };
    const r = await run([], keys, admin);
    expect(r.code).toBe(1);
    expect(r.out).toContain('AuthFailure for [TCB_API_KEY]');
    expect(r.out).not.toContain(keys.TCB_API_KEY);
  });

  it('half a key or a bad ENV_ID is refused before any call', async () => {
    const r = await run([], { ...keys, ENV_ID: 'bad env' });
    expect(r.code).toBe(1);
    expect(r.built).toBe(0);
    expect(r.out).toContain('ENV_ID');
  });

  it('a broken file applies nothing', async () => {
    fs.writeFileSync(path.join(root, 'database', 'collections.json'), '{"collections": []}');
    const r = await run([], keys, new FakeAdmin());
    expect(r.code).toBe(1);
    expect(r.built).toBe(0);
  });
});
