/**
 * `npm run demo -- "<share text>"`: the product's main job once, as a user sees it — submit, live
 * progress from the watch, the result, and the notice as WeChat would show it.
 *
 * Exit codes: 0 the text was extracted; 1 nothing was started (the text was refused, a flag or a
 * setting is wrong, or the stack could not run); 2 the task ran and failed or timed out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractAnswer } from '../shared/api';
import { FAILURE_MESSAGES, isFailureCode } from '../shared/errors';
import { progressPercent, statusLabel } from '../shared/presentation';
import { resultKind } from '../shared/result';
import { TaskStatus, isTerminal } from '../shared/status';
import { viewFromRaw, type TaskView } from '../shared/task';
import { callFunction, watch } from '../emulator/client';
import { commandLineOrExit } from './cli';
import { localTemplates, startProductStack, type LocalTemplate } from './local-stack';
import { portSetting, refuseInvalidSettings } from './local-settings';

const USER = 'demo-user';
const SAMPLE =
  '7.94 复制打开抖音，看看【小猫的作品】好可爱 # 萌宠 https://v.douyin.com/iRNBho6u/ :9pm z@A.gb 08/12';

export const DEMO_USAGE = `usage: npm run demo [-- "<share text>"]
  submits the share text (a sample Douyin text when none is given) on a fresh local stack,
  draws the live progress, prints the result and the notice the user would receive
  --build     rebuild the function bundles first (npm run demo passes it)
  -h, --help  this text
  settings: PORT (any free port when unset, so it never clashes with npm start), and every key
  of .env.example from the environment, as npm start reads them
  exit 0 extracted; 1 nothing started (text refused, bad flag or setting); 2 the task failed or timed out
  a link whose path contains "fail" makes the Coze stand-in fail the run`;

export const DEMO_COMMAND = {
  name: 'npm run demo',
  usage: DEMO_USAGE,
  options: { build: { type: 'boolean' } },
  allowPositionals: true,
  // 2 means "the task failed" here: a usage error is one more way nothing was started.
  usageExitCode: 1,
} as const;

function bar(percent: number): string {
  const filled = Math.round(percent / 5);
  return `[${'█'.repeat(filled)}${'░'.repeat(20 - filled)}] ${String(percent).padStart(3)}%`;
}

/** The progress line the page would show: the label of the status it is in, failed included. */
function progressLine(t: TaskView): string {
  return `${bar(progressPercent(t, t.status))} ${statusLabel(t.status)}`;
}

interface SentNotice {
  templateId?: string;
  page?: string;
  data?: Record<string, { value?: string }>;
}

/** A notice as 服务通知 shows it: the template's title, then one "name: value" line per keyword. */
export function noticeLines(sent: SentNotice, templates: LocalTemplate[]): string[] {
  const template = templates.find((t) => t.id === sent.templateId);
  const data = sent.data ?? {};
  const keywords = template?.keywords ?? Object.keys(data);
  return [
    template?.title ?? `订阅消息 ${sent.templateId ?? ''}`,
    ...keywords.map((k) => `${template?.labels[k] ?? k}: ${data[k]?.value ?? ''}`),
    ...(sent.page ? [`（点开进入 ${sent.page}）`] : []),
  ];
}

/**
 * The port the demo's stack listens on: PORT when set (validated like npm start's), else any free
 * one, so a demo beside a running `npm start` on 3000 never collides with it.
 */
export function demoPort(env: NodeJS.ProcessEnv): number | undefined {
  if (!env.PORT?.trim()) return undefined;
  return portSetting(env) ?? -1; // -1: refused by refuseInvalidSettings, naming PORT
}

async function main(): Promise<number> {
  const { values, positionals } = commandLineOrExit(DEMO_COMMAND);
  const shareText = positionals.join(' ').trim() || SAMPLE;
  const port = demoPort(process.env);
  refuseInvalidSettings(DEMO_COMMAND.name, process.env, { port: port !== undefined });
  const dataDir = mkdtempSync(join(tmpdir(), 'svt-demo-'));
  const product = await startProductStack({
    dataDir,
    inheritEnv: true,
    ...(port ? { port } : {}),
    ...(values.build ? { build: true } : {}),
  });
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
          process.stdout.write(`\r${progressLine(view)}   `);
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
      // A photo note has no video: its text is the note's own words.
      const lines = [
        `标题：${title}`,
        cover ? `封面：${cover}` : null,
        video_url ? `视频：${video_url}（链接约 1 小时后失效）` : null,
        resultKind(final.result) === 'note' ? '类型：图文笔记（正文是笔记自己的文字）' : null,
        `字数：${[...content].length}`,
      ].filter((line) => line !== null);
      console.log(`\n${lines.join('\n')}\n\n${content}\n`);
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
    if (!sent.length) console.log('没有发送订阅消息');
    const templates = localTemplates(product.env);
    for (const notice of sent) {
      console.log(`订阅消息已发送（微信「服务通知」里这样显示）：`);
      for (const line of noticeLines(notice as SentNotice, templates)) console.log(`  ${line}`);
    }
    return final.status === TaskStatus.Completed ? 0 : 2;
  } finally {
    await product.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
