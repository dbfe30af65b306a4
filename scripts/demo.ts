/**
 * `npm run demo -- "<share text>"`: the product's main job once, as a user sees it — submit, live
 * progress from the watch, the result, and the notice WeChat would deliver.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractAnswer } from '../shared/api';
import { FAILURE_MESSAGES, isFailureCode } from '../shared/errors';
import { TaskStatus, isTerminal } from '../shared/status';
import { viewFromRaw, type TaskView } from '../shared/task';
import { callFunction, watch } from '../emulator/client';
import { startProductStack } from './local-stack';

const USER = 'demo-user';
const SAMPLE =
  '7.94 复制打开抖音，看看【小猫的作品】好可爱 # 萌宠 https://v.douyin.com/iRNBho6u/ :9pm z@A.gb 08/12';

function bar(progress: number): string {
  const filled = Math.round(progress / 5);
  return `[${'█'.repeat(filled)}${'░'.repeat(20 - filled)}] ${String(progress).padStart(3)}%`;
}

const stageOf = (t: TaskView) =>
  t.status === TaskStatus.Pending
    ? '排队中'
    : t.status === TaskStatus.Processing
      ? '提取中'
      : '完成';

async function main(): Promise<number> {
  const shareText = process.argv.slice(2).join(' ').trim() || SAMPLE;
  const dataDir = mkdtempSync(join(tmpdir(), 'svt-demo-'));
  const product = await startProductStack({ dataDir, inheritEnv: true });
  try {
    const { url } = product;
    console.log(
      `本地栈已启动 ${url}（${product.usingRealCoze ? '真实 Coze' : 'Coze 模拟器，结果为模拟数据'}）`,
    );
    console.log(`提交：${shareText}`);
    // What an accepted wx.requestSubscribeMessage grants: one send of each template.
    product.stack.grant(USER);
    // The history list a returning user sees first; it also starts the function instance, so the
    // time printed below is a warm submit, as in a live app (a cold start adds about a second).
    await callFunction(url, 'extractText', { action: 'list' }, USER);
    const started = Date.now();
    const answer = (await callFunction(
      url,
      'extractText',
      {
        action: 'create',
        shareText,
        requestId: `demo-${Date.now()}`,
        subscribed: { success: true, failure: true },
      },
      USER,
    )) as ExtractAnswer;
    if (!answer.ok) {
      console.error(`✗ ${answer.error.message}（${answer.error.code}）`);
      return 1;
    }
    if (!('task' in answer)) return 1;
    console.log(
      `✓ 已受理，用时 ${Date.now() - started} ms；任务 ${answer.task._id}（${answer.task.platform}）`,
    );

    const final = await new Promise<TaskView>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no final status within 60 s')), 60_000);
      const w = watch(
        url,
        USER,
        'tasks',
        { _id: answer.task._id, _openid: '{openid}' },
        (snapshot) => {
          const view = viewFromRaw(snapshot.docs[0]);
          if (!view) return;
          process.stdout.write(`\r${bar(view.progress)} ${stageOf(view)}   `);
          if (isTerminal(view.status)) {
            clearTimeout(timer);
            w.close();
            process.stdout.write('\n');
            resolve(view);
          }
        },
        (err) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });

    if (final.status === TaskStatus.Completed && final.result) {
      const { title, content, cover, video_url } = final.result;
      console.log(
        `\n标题：${title}\n封面：${cover}\n视频：${video_url}（链接约 1 小时后失效）\n字数：${[...content].length}\n\n${content}\n`,
      );
    } else {
      const reason =
        final.error_message ??
        (isFailureCode(final.error_code) ? FAILURE_MESSAGES[final.error_code] : '');
      console.log(`\n✗ 任务${final.status === TaskStatus.Timeout ? '超时' : '失败'}：${reason}`);
    }

    // The notice goes out right after the final callback; give it a moment to be recorded.
    const deadline = Date.now() + 5000;
    let sent = product.outbox();
    while (sent.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      sent = product.outbox();
    }
    console.log(
      sent.length ? `订阅消息已发送：\n${JSON.stringify(sent, null, 2)}` : '没有发送订阅消息',
    );
    return final.status === TaskStatus.Completed ? 0 : 2;
  } finally {
    await product.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
