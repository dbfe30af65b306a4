/** Shared test fixtures: share texts, results, and the page wiring most tests want. */
import { FakeServer } from './fake-server';
import { TEMPLATES } from './harness';
import { installWxMocks, respond, setWx, type WxMocks } from './setup';

export const DOUYIN_TEXT =
  '7.94 复制打开抖音，看看【小猫的作品】好可爱 # 萌宠 https://v.douyin.com/iRNBho6u/ :9pm z@A.gb 08/12';

export const RESULT = {
  title: '三分钟学会红烧肉',
  content: '大家好，今天教大家做红烧肉。先把五花肉切块，冷水下锅焯水。',
  cover: 'https://p3.example.com/cover.jpg',
  video_url: 'https://v3.example.com/video.mp4?expires=1',
};

export type SubscribeAnswer = 'accept' | 'reject' | 'ban' | 'filter';

/** A fake cloud plus fresh wx mocks; the prompt answers `success`/`failure` as given. */
export function wire(answers: { success?: SubscribeAnswer; failure?: SubscribeAnswer } = {}): {
  server: FakeServer;
  wx: WxMocks;
} {
  const server = new FakeServer();
  const wx = installWxMocks();
  setWx({ cloud: server.cloud() });
  wx.requestSubscribeMessage.mockImplementation(
    (o: { tmplIds: string[]; success?: (r: object) => void }) => {
      server.log.push('subscribe');
      respond(o, {
        errMsg: 'requestSubscribeMessage:ok',
        [TEMPLATES.success]: answers.success ?? 'accept',
        [TEMPLATES.failure]: answers.failure ?? 'accept',
      });
    },
  );
  return { server, wx };
}
