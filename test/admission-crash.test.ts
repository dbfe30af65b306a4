/**
 * A create whose instance dies while taking the task's quota and slot (issue 10, item 3): the
 * ledger write never lands. No task may then be started by anyone, the sweeper included; before
 * the fix the task was inserted first and the sweeper started it with no quota charged.
 *
 * The death is injected at the emulator: every write to the quota ledger fails, whatever the
 * collection is called. In its own file: the action table is per module registry.
 */
import { AdminError, adminActions, type AdminAction } from '../emulator';
import { handleExtract } from '../cloudfunctions/extractText/handler';
import { sweep } from '../cloudfunctions/taskSweeper/handler';
import { startBackend, type Backend } from './support/backend';

const USER = 'o_crash';
const TEXT = '【十分钟看懂量子计算-哔哩哔哩】 https://b23.tv/AbCd123';
const LEDGER_COLLECTIONS = ['quota', 'ledgers'];
const WRITES = ['database.modifyDocument', 'database.insertDocument', 'database.addDocument'];

const originals = new Map<string, AdminAction>();
let dying = false;

beforeAll(() => {
  for (const name of WRITES) {
    const action = adminActions[name] as AdminAction;
    originals.set(name, action);
    adminActions[name] = (params, ctx) => {
      if (dying && LEDGER_COLLECTIONS.includes(String(params.collectionName))) {
        throw new AdminError('SYS_ERR', 'the instance died');
      }
      return action(params, ctx);
    };
  }
});
afterAll(() => {
  for (const [name, action] of originals) adminActions[name] = action;
});

let b: Backend;
beforeEach(async () => {
  b = await startBackend({ DISPATCH_BACKOFF_S: '10' });
});
afterEach(async () => {
  dying = false;
  await b.close();
});

it('a create that dies taking its quota is never started, not even by the sweeper', async () => {
  dying = true;
  const answer = await handleExtract(b.deps, USER, { action: 'create', shareText: TEXT });
  dying = false;
  expect(answer.ok).toBe(false);
  for (let i = 0; i < 4; i++) {
    b.clock.advance(60_000);
    await sweep(b.deps);
  }
  expect(b.coze.starts).toHaveLength(0);
  expect(await b.deps.store.listSummaries(USER, null, 10)).toEqual([]);
  // The user can submit again at once: the dead attempt took nothing.
  const again = await handleExtract(b.deps, USER, { action: 'create', shareText: TEXT });
  expect(again.ok).toBe(true);
  expect(b.coze.starts).toHaveLength(1);
});
