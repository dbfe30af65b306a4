/** Contract: cloud.openapi.subscribeMessage.send from a function, checked like WeChat, grants and the outbox. */
import { callFunction, grantSubscriptions } from '../client';
import type { LocalStack, SentMessage } from '..';
import { removeDir, startFixtureStack, tempDataDir } from '../testing';

jest.setTimeout(20_000);

interface NotifyAnswer {
  ok: boolean;
  errCode?: number;
  errMsg?: string;
  res?: { errCode: number; errMsg: string; msgid: number };
}

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir });
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

const good = {
  touser: 'user-sub',
  templateId: 'tpl-done',
  page: '/pages/index/index?taskId=t1',
  data: {
    thing1: { value: '提取完成：小猫的作品' },
    time2: { value: '2024年5月1日 15:01' },
    phrase3: { value: '已完成' },
  },
  miniprogramState: 'developer',
  lang: 'zh_CN',
};

function send(message: unknown): Promise<NotifyAnswer> {
  return callFunction(stack.url, 'notify', { message }, 'user-sub') as Promise<NotifyAnswer>;
}

async function outbox(): Promise<SentMessage[]> {
  return (await (await fetch(`${stack.url}/_outbox`)).json()) as SentMessage[];
}

it('refuses unknown templates (40037) and bad openids (40003)', async () => {
  expect(await send({ ...good, templateId: 'nope' })).toMatchObject({ ok: false, errCode: 40037 });
  expect(await send({ ...good, touser: '' })).toMatchObject({ ok: false, errCode: 40003 });
  expect(await send({ ...good, touser: 'not an openid!' })).toMatchObject({
    ok: false,
    errCode: 40003,
  });
});

it('checks every keyword value and names the field (47003)', async () => {
  const tooLong = await send({
    ...good,
    data: { ...good.data, thing1: { value: '一二三四五六七八九十一二三四五六七八九十一' } },
  });
  expect(tooLong).toMatchObject({ ok: false, errCode: 47003 });
  expect(tooLong.errMsg).toContain('argument invalid! data.thing1.value invalid');
  const badPhrase = await send({ ...good, data: { ...good.data, phrase3: { value: 'done' } } });
  expect(badPhrase.errMsg).toContain('data.phrase3.value');
  const badTime = await send({ ...good, data: { ...good.data, time2: { value: '2024.05.01' } } });
  expect(badTime.errMsg).toContain('data.time2.value');
  const newline = await send({ ...good, data: { ...good.data, thing1: { value: 'a\nb' } } });
  expect(newline.errCode).toBe(47003);
  const { phrase3: _omitted, ...missing } = good.data;
  expect((await send({ ...good, data: missing })).errMsg).toContain('data.phrase3.value');
  expect(
    (await send({ ...good, data: { ...good.data, thing9: { value: 'x' } } })).errMsg,
  ).toContain('data.thing9.value');
});

it('refuses without a grant (43101), sends once per grant and records the message', async () => {
  expect(await send(good)).toMatchObject({
    ok: false,
    errCode: 43101,
    errMsg: expect.stringContaining('user refuse to accept the msg'),
  });
  expect(await grantSubscriptions(stack.url, 'user-sub', ['tpl-done'])).toEqual({ 'tpl-done': 1 });
  const before = Date.now();
  const sent = await send(good);
  expect(sent).toMatchObject({
    ok: true,
    res: { errCode: 0, errMsg: 'openapi.subscribeMessage.send:ok' },
  });
  expect(typeof sent.res?.msgid).toBe('number');
  expect(await send(good)).toMatchObject({ ok: false, errCode: 43101 });
  const list = await outbox();
  expect(list).toHaveLength(1);
  const { sentAt, ...rest } = list[0] as SentMessage;
  expect(rest).toEqual(good);
  expect(new Date(sentAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
  expect(stack.outbox()).toEqual(list);
});

it('grants one of each known template without templateIds, and validates the request', async () => {
  expect(await grantSubscriptions(stack.url, 'user-all')).toEqual({
    'tpl-done': 1,
    'tpl-failed': 1,
  });
  stack.grant('user-all', ['tpl-failed']);
  expect(await grantSubscriptions(stack.url, 'user-all', ['tpl-failed'])).toEqual({
    'tpl-done': 1,
    'tpl-failed': 3,
  });
  const bad = await fetch(`${stack.url}/_grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"templateIds":["tpl-done"]}',
  });
  expect(bad.status).toBe(400);
  const unknown = await fetch(`${stack.url}/_grants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"openid":"u","templateIds":["zzz"]}',
  });
  expect(unknown.status).toBe(400);
});

it('keeps grants and the outbox across a restart', async () => {
  const port = stack.port;
  await stack.close();
  stack = await startFixtureStack({ dataDir, port });
  expect(await outbox()).toHaveLength(1);
  const failedMsg = {
    touser: 'user-all',
    templateId: 'tpl-failed',
    data: {
      thing1: { value: '提取失败' },
      character_string2: { value: 'ERR_42-x' },
      number3: { value: '3.5' },
    },
  };
  expect(await callFunction(stack.url, 'notify', { message: failedMsg }, 'user-all')).toMatchObject(
    { ok: true },
  );
  expect(await outbox()).toHaveLength(2);
});
