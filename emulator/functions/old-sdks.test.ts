/**
 * Contract (issue 26): unmodified functions on wx-server-sdk 0.8.1, 1.8.3, 2.0.4 and 2.1.2 (each
 * pinned in its own folder's package.json: `emulator/fixtures/old-sdks`, npm workspaces nest each
 * SDK beside its function) served as `npm start -- --project DIR` serves a project. Every call goes
 * through the real SDK of that version; nothing here reaches the network (the runtime answers the
 * cloud's fixed hosts itself, cloud-hosts.ts).
 */
import * as path from 'node:path';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../index';
import { parseMainSettings } from '../main';
import { adminCall, removeDir, tempDataDir } from '../testing';

const PROJECT = path.join(__dirname, '..', 'fixtures', 'old-sdks');
const SDKS = ['sdk-0-8-1', 'sdk-1-8-3', 'sdk-2-0-4', 'sdk-2-1-2'] as const;
const APPID = 'wx0000000000000000';
const USER = 'o_old_sdk_user';
const DEADLINE_MS = 60_000;

type Answer = { ok: boolean; result?: Record<string, unknown>; errCode?: number; errMsg?: string };

let stack: LocalStack;
let dataDir: string;
const logs: string[] = [];
/** Every call the test makes and whether it answered as the cloud would (printed at the end). */
const tally = { made: 0, right: 0 };

/** The options `npm start -- --project DIR` (emulator/main.ts) starts the stack with. */
function projectOptions(extra: Partial<LocalStackOptions> = {}): LocalStackOptions {
  const s = parseMainSettings(['--project', PROJECT], { PORT: '0', DATA_DIR: dataDir });
  return {
    port: s.port,
    dataDir: s.dataDir,
    projectDir: s.projectDir,
    timerOverrideS: s.timerOverrideS,
    log: (l) => logs.push(l),
    ...extra,
  };
}

beforeAll(async () => {
  dataDir = tempDataDir('old-sdks-');
  stack = await startLocalStack(projectOptions());
  // As a project's owner creates a collection in the console.
  await adminCall(stack.adminUrl, { action: 'database.addCollection', collectionName: 'notes' });
}, DEADLINE_MS);

afterAll(async () => {
  await stack?.close();
  if (dataDir) removeDir(dataDir);
  console.log(`old-SDK project: ${tally.right} of ${tally.made} calls answered as the cloud would`);
});

async function call(fn: string, event: Record<string, unknown>): Promise<Answer> {
  return (await stack.invoke(fn, event, USER)) as Answer;
}

/** One call's verdict, counted. */
function check(answer: Answer, expected: Record<string, unknown>): void {
  tally.made++;
  expect(answer).toMatchObject(expected);
  tally.right++;
}

describe.each(SDKS)('%s', (fn) => {
  it(
    'reaches the emulator from inside the function (the cloud’s fixed hosts answered locally)',
    async () => {
      check(await call(fn, { op: 'db', text: `note from ${fn}` }), {
        ok: true,
        result: {
          got: { text: `note from ${fn}`, n: 1 },
          updated: 1,
          total: 1,
          listed: [2],
          removed: 1,
        },
      });
    },
    DEADLINE_MS,
  );

  it('sees event.userInfo {appId, openId}, the caller’s, whatever the client sent', async () => {
    check(await call(fn, { op: 'context', userInfo: { openId: 'forged', appId: 'wx-forged' } }), {
      ok: true,
      result: {
        userInfo: { appId: APPID, openId: USER },
        wxContext: { OPENID: USER, APPID, SOURCE: 'wx_client' },
      },
    });
  });

  it('gets top-level CloudIDs replaced by (fake) open data, nested ones as their id', async () => {
    const answer = await call(fn, {
      op: 'cloudId',
      weRunData: { cloudID: 'werun-1' },
      obj: { shareInfo: { cloudID: 'share-1' } },
    });
    check(answer, {
      ok: true,
      result: {
        weRunData: { cloudID: 'werun-1', data: { watermark: { appid: APPID } } },
        obj: { shareInfo: 'share-1' },
      },
    });
    const data = (answer.result?.weRunData as { data: { localStackFake: string } }).data;
    expect(data.localStackFake).toContain('local stack fake open data');
  });

  it('decodes cloud.getOpenData, an expired CloudID answered as WeChat documents', async () => {
    check(await call(fn, { op: 'openData', list: ['werun-2', 'expired-1'] }), {
      ok: true,
      result: {
        list: [
          { cloudID: 'werun-2', data: { watermark: { appid: APPID } } },
          { cloudID: 'expired-1', errCode: -601006, errMsg: 'cloudID expired.' },
        ],
      },
    });
  });

  it('may call the openapi its config.json declares, and gets -604101 for any other', async () => {
    check(await call(fn, { op: 'msgSecCheck', content: 'hello' }), {
      ok: true,
      result: { errCode: 0 },
    });
    check(await call(fn, { op: 'imgSecCheck' }), { ok: true, result: { errCode: 0 } });
    check(await call(fn, { op: 'undeclared' }), { ok: false, errCode: -604101 });
  });

  it('sends a subscription message with the time values projects send', async () => {
    stack.grant(USER, ['tpl-old-sdk']);
    check(
      await call(fn, {
        op: 'subscribe',
        touser: USER,
        data: {
          thing1: { value: fn },
          // WeChat DevTools' own template, and toLocaleString('zh-CN').
          time2: { value: '2020-01-01 00:00' },
          date3: { value: '2026/12/6 19:13:14' },
        },
      }),
      { ok: true, result: { errCode: 0 } },
    );
  });
});

it(
  'with the permission check off (a project deployed only with the tcb CLI), any openapi runs',
  async () => {
    const other = await startLocalStack(
      projectOptions({ dataDir: tempDataDir('old-sdks-off-'), openApiPermissions: false }),
    );
    try {
      const answer = (await other.invoke('sdk-2-1-2', { op: 'undeclared' }, USER)) as Answer;
      check(answer, { ok: true, result: { contentType: 'image/png' } });
    } finally {
      await other.close();
      removeDir(other.dataDir);
    }
  },
  DEADLINE_MS,
);

it('logged each refusal with the function and the API it lacked', () => {
  expect(logs).toContain(
    'sdk-0-8-1: wxacode.getUnlimited refused (-604101): not in permissions.openapi of its config.json',
  );
});
