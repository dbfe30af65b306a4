/** Contract: data written through the SDK outlives close + restart on the same data dir, even with a torn journal. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as cloud from 'wx-server-sdk';
import { sdkInitOptions } from '../client';
import type { LocalStack } from '..';
import { removeDir, sdkDatabase, startFixtureStack, tempDataDir } from '../testing';

jest.setTimeout(20_000);

let stack: LocalStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  stack = await startFixtureStack({ dataDir });
  cloud.init(sdkInitOptions(stack.adminUrl) as unknown as Parameters<typeof cloud.init>[0]);
});

afterAll(async () => {
  await stack.close();
  removeDir(dataDir);
});

it('keeps documents, Dates and updates across restarts and ignores a torn journal tail', async () => {
  const db = sdkDatabase(cloud);
  const at = new Date('2024-05-01T00:00:00.000Z');
  for (let i = 0; i < 200; i++)
    await db.collection('tasks').add({ data: { _id: `t${i}`, n: i, at } });
  await db
    .collection('tasks')
    .where({ n: db.command.lt(10) })
    .update({ data: { status: 'done' } });
  await db.collection('tasks').doc('t199').remove();

  const port = stack.port;
  await stack.close();
  // A crash in the middle of an append leaves half a line behind.
  fs.appendFileSync(
    path.join(dataDir, 'db', 'tasks.jsonl'),
    '{"p":{"_id":"t999","n":{"$numberInt":"9',
  );
  // Same port, so the SDK (initialised once per process) keeps talking to the new instance.
  stack = await startFixtureStack({ dataDir, port });

  expect((await db.collection('tasks').count()).total).toBe(199);
  expect((await db.collection('tasks').where({ status: 'done' }).count()).total).toBe(10);
  const doc = (await db.collection('tasks').doc('t5').get()).data as Record<string, unknown>;
  expect(doc).toEqual({ _id: 't5', n: 5, at, status: 'done' });
  expect(doc.at).toBeInstanceOf(Date);
  await db.collection('tasks').add({ data: { _id: 't999', n: 999 } });
  expect((await db.collection('tasks').doc('t999').get()).data).toEqual({ _id: 't999', n: 999 });
});
