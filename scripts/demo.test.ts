/**
 * The README's first command, as a user runs it: the whole flow on the local stack, in a child
 * process, with the stand-in's delay shortened.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

function demo(text: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, COZE_STANDIN_DELAY_MS: '200' };
  // Never the real Coze from a test.
  delete env.COZE_API_TOKEN;
  delete env.COZE_WORKFLOW_ID;
  return spawnSync(tsx, [join(root, 'scripts', 'demo.ts'), text], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('npm run demo', () => {
  it('submits, shows live progress, the result and the notice, and exits 0', () => {
    const run = demo(
      '7.94 复制打开抖音，看看【小猫的作品】好可爱 https://v.douyin.com/iRNBho6u/ :9pm',
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('已受理');
    expect(run.stdout).toContain('100%');
    expect(run.stdout).toContain('标题：【模拟】');
    expect(run.stdout).toContain('订阅消息已发送');
    expect(run.stdout).toContain('pages/index/index?taskId=');
  });

  it('a text without a link prints the user-facing error and exits 1', () => {
    const run = demo('这个视频太好看了，快去看');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('没有找到视频链接');
    expect(run.stderr).toContain('NO_LINK');
  });
});
