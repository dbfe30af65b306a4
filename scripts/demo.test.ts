/**
 * The README's first command, as a user runs it: the whole flow on the local stack, in a child
 * process, with the stand-in's delay shortened.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LOCAL_DEFAULTS, freePort, localTemplates } from './local-stack';
import { demoPort, noticeLines } from './demo';

const root = join(__dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function demo(text: string, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, COZE_STANDIN_DELAY_MS: '200' };
  // Never the real Coze from a test, and any free port unless the test names one.
  delete env.COZE_API_TOKEN;
  delete env.COZE_WORKFLOW_ID;
  delete env.PORT;
  Object.assign(env, extra);
  return spawnSync(tsx, [join(root, 'scripts', 'demo.ts'), text], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** The progress bar states the run drew (each redraw starts with \r). */
const progressLines = (stdout: string) =>
  stdout.split(/[\r\n]/).filter((l) => /^\[[█░]+\] +\d+% /.test(l));

describe('npm run demo', () => {
  it('submits, shows live progress, the result and the notice, and exits 0 (on PORT when set)', async () => {
    const port = await freePort();
    const run = demo(
      '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/ :9pm',
      { PORT: String(port) },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`本地栈已启动 http://127.0.0.1:${port}（`);
    expect(run.stdout).toContain('已受理');
    expect(run.stdout).toContain('100%');
    expect(run.stdout).toContain('标题：【模拟】');
    expect(run.stdout).toContain('订阅消息已发送');
    expect(run.stdout).toContain('pages/index/index?taskId=');
    // The notice as the user reads it: the template's title and one line per keyword, not JSON.
    expect(run.stdout).toContain('  文案提取完成通知\n  视频标题: 【模拟】');
    expect(run.stdout).toMatch(/处理状态: 已完成\n {2}完成时间: \d{4}年/);
    expect(run.stdout).not.toContain('"templateId"');
    expect(progressLines(run.stdout).at(-1)).toMatch(/100% 已完成/);
  });

  it('a failed run is labelled failed, not done, notifies the failure and exits 2', () => {
    // The stand-in fails every run whose link path contains "fail".
    const run = demo('7.94 复制打开抖音，看看 https://v.douyin.com/iRNBfail/');
    expect(run.status).toBe(2);
    expect(run.stdout).toContain('✗ 任务失败：');
    const bars = progressLines(run.stdout);
    expect(bars.at(-1)).toContain('失败');
    for (const line of bars) expect(line).not.toContain('完成');
    expect(run.stdout).toContain('  文案提取失败通知\n');
    expect(run.stdout).toMatch(/失败原因: \S+/);
    expect(run.stdout).not.toContain('文案提取完成通知');
  });

  it('a text without a link prints the user-facing error and exits 1', () => {
    const run = demo('这个视频太好看了，快去看');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('没有找到视频链接');
    expect(run.stderr).toContain('NO_LINK');
  });
});

describe('demoPort', () => {
  it('PORT when set, any free port when not, and a bad PORT is refused (not ignored)', () => {
    expect(demoPort({ PORT: '4123' })).toBe(4123);
    expect(demoPort({ PORT: ' ' })).toBeUndefined();
    expect(demoPort({})).toBeUndefined();
    expect(demoPort({ PORT: 'eighty' })).toBe(-1);
  });

  it('a bad PORT stops the demo before anything starts, naming the setting', () => {
    const run = demo('https://v.douyin.com/iRNBho6u/', { PORT: 'eighty' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('PORT must be a port number');
  });
});

describe('noticeLines', () => {
  it('names every keyword as the template declares it, in its order', () => {
    const lines = noticeLines(
      {
        templateId: LOCAL_DEFAULTS.SUBSCRIBE_TEMPLATE_FAILURE_ID,
        page: 'pages/index/index?taskId=t1',
        data: {
          thing1: { value: '小猫' },
          phrase2: { value: '失败' },
          thing3: { value: '视频无法访问' },
          time4: { value: '2026年1月2日 10:00' },
        },
      },
      localTemplates(),
    );
    expect(lines).toEqual([
      '文案提取失败通知',
      '视频标题: 小猫',
      '处理状态: 失败',
      '失败原因: 视频无法访问',
      '失败时间: 2026年1月2日 10:00',
      '（点开进入 pages/index/index?taskId=t1）',
    ]);
  });
});
