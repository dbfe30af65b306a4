/** What `npm start` prints once the stack is up (the banner), without starting a stack. */
import { startBanner } from './start';

const base = {
  url: 'http://127.0.0.1:3000',
  port: 3000,
  dataDir: '/repo/.data',
  realCoze: null,
};

it('names the console first, then every door of the stack', () => {
  const lines = startBanner({ ...base, webhookSecret: 'whsec_local' }).split('\n');
  const doors = lines.filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]);
  expect(doors.slice(1, 3)).toEqual(['console', 'functions']);
  expect(lines.find((l) => l.includes('console'))).toContain('http://127.0.0.1:3000/ ');
  expect(lines.join('\n')).toContain('ws://127.0.0.1:3000/_watch');
  expect(lines.join('\n')).toContain('stand-in at http://127.0.0.1:3000/coze');
});

it('never prints a secret that came from the environment', () => {
  const text = startBanner({ ...base, webhookSecret: null, realCoze: 'https://api.coze.cn' });
  expect(text).toContain('webhook secret from WEBHOOK_SECRET (not printed)');
  expect(text).toContain('REAL Coze at https://api.coze.cn');
});
