import {
  CALLBACK_TYPES,
  MAX_CALLBACK_BYTES,
  eventFromCallback,
  parseCallbackBody,
} from './callback';

const PROOF = { tokenHash: 'h', executeId: null, deliveryId: 'msg_1' };
import {
  CONTENT_CUT_MARK,
  MAX_CONTENT_LENGTH,
  MAX_MEDIA_URL_LENGTH,
  MAX_TITLE_LENGTH,
  boundResult,
  mediaUrlOrEmpty,
} from './result';

describe('parseCallbackBody', () => {
  // The body of the callback contract (docs/architecture.md), with each real type in turn.
  const example = (type: string) => ({
    type,
    data: {
      task_id: '0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10',
      execute_id: '7451234567890123456',
      callback_token: 'tok_SENTINEL_42',
      progress: 40,
      output: { title: '', content: '', cover: '', video_url: '' },
      error: { code: '', message: '' },
    },
  });

  it('lists the three types', () => {
    expect(CALLBACK_TYPES).toEqual([
      'workflow.execution.progress',
      'workflow.execution.completed',
      'workflow.execution.failed',
    ]);
  });

  it.each(CALLBACK_TYPES.map((t) => [t]))('accepts the contract example as %s', (type) => {
    const result = parseCallbackBody(JSON.stringify(example(type)));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.body.type).toBe(type);
    expect(result.body.data.task_id).toBe('0b6c4a52-2c1e-4e8f-9a53-7d1f0e6b2a10');
    expect(result.body.data.progress).toBe(40);
  });

  it('fills defaults: execute_id, output strings, and a failure code', () => {
    const completed = parseCallbackBody(
      JSON.stringify({
        type: 'workflow.execution.completed',
        data: { task_id: 't1', callback_token: 'x', output: { content: '文案' } },
      }),
    );
    expect(completed).toEqual({
      ok: true,
      body: {
        type: 'workflow.execution.completed',
        data: {
          task_id: 't1',
          execute_id: '',
          callback_token: 'x',
          output: { title: '', content: '文案', cover: '', video_url: '' },
        },
      },
      adjusted: [],
    });

    const failed = parseCallbackBody(
      JSON.stringify({
        type: 'workflow.execution.failed',
        data: { task_id: 't1', callback_token: 'x' },
      }),
    );
    // A failure that names no code is PROVIDER_ERROR, as the one event mapping reads it.
    expect(failed.ok && eventFromCallback(failed.body, PROOF)).toMatchObject({
      type: 'failed',
      errorCode: 'PROVIDER_ERROR',
    });

    const failedWithCode = parseCallbackBody(JSON.stringify(example('workflow.execution.failed')));
    expect(failedWithCode.ok && eventFromCallback(failedWithCode.body, PROOF)).toMatchObject({
      type: 'failed',
      errorCode: 'PROVIDER_ERROR',
    });

    const failedKept = parseCallbackBody(
      JSON.stringify({
        type: 'workflow.execution.failed',
        data: {
          task_id: 't1',
          callback_token: 'x',
          error: { code: 'VIDEO_PRIVATE', message: '私密' },
        },
      }),
    );
    expect(failedKept.ok && failedKept.body.data.error).toEqual({
      code: 'VIDEO_PRIVATE',
      message: '私密',
    });
  });

  it('refuses unknown keys at every level, naming each (a misspelt field loses no value silently)', () => {
    const body = example('workflow.execution.progress') as Record<string, unknown>;
    body.extra = 1;
    (body.data as Record<string, unknown>).debug = { secret: 'x' };
    ((body.data as Record<string, unknown>).output as Record<string, unknown>).video_ur1 = 'x';
    const result = parseCallbackBody(JSON.stringify(body));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toContain('extra: unknown field');
    expect(result.issues).toContain('data.debug: unknown field');
    expect(result.issues).toContain('data.output.video_ur1: unknown field');
    // A key that is not a plain name is not echoed.
    const odd = example('workflow.execution.completed') as { data: Record<string, unknown> };
    odd.data['<img src=x>'] = 1;
    const refused = parseCallbackBody(JSON.stringify(odd));
    expect(!refused.ok && refused.issues).toBe('data.(a field): unknown field');
  });

  it("takes the result's kind: a note is kept as such, a transcript by absence, anything else refused", () => {
    const withKind = (kind: unknown) => {
      const body = example('workflow.execution.completed');
      return parseCallbackBody(
        JSON.stringify({ ...body, data: { ...body.data, output: { ...body.data.output, kind } } }),
      );
    };
    const note = withKind('note');
    expect(note.ok && note.body.data.output).toMatchObject({ kind: 'note' });
    const transcript = withKind('transcript');
    expect(transcript.ok && transcript.body.data.output).toEqual({
      title: '',
      content: '',
      cover: '',
      video_url: '',
    });
    const odd = withKind('video');
    expect(odd.ok).toBe(false);
    expect(!odd.ok && odd.issues).toContain('data.output.kind');
  });

  it('accepts long content with Chinese text and emoji, up to the content bound', () => {
    const content = '今天聊量子计算😀😀😀'.repeat(MAX_CONTENT_LENGTH / 10);
    expect(Array.from(content)).toHaveLength(MAX_CONTENT_LENGTH);
    const result = parseCallbackBody(
      JSON.stringify({
        type: 'workflow.execution.completed',
        data: { task_id: 't', callback_token: 'x', output: { title: 't', content } },
      }),
    );
    expect(result.ok && result.body.data.output?.content).toBe(content);
  });

  const malformed: Array<[string, () => unknown, string]> = [
    [
      'missing task_id',
      () => {
        const b = example('workflow.execution.progress');
        delete (b.data as Partial<typeof b.data>).task_id;
        return b;
      },
      'data.task_id',
    ],
    [
      'empty task_id',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, task_id: '' },
      }),
      'data.task_id',
    ],
    [
      'task_id over 64',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, task_id: 'T'.repeat(65) },
      }),
      'data.task_id',
    ],
    [
      'progress 101',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, progress: 101 },
      }),
      'data.progress',
    ],
    [
      'progress -1',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, progress: -1 },
      }),
      'data.progress',
    ],
    [
      'progress 40.5',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, progress: 40.5 },
      }),
      'data.progress',
    ],
    [
      'progress as a string',
      () => ({
        ...example('workflow.execution.progress'),
        data: { ...example('x').data, progress: '40' },
      }),
      'data.progress',
    ],
    ['a wrong type', () => example('workflow.execution.SENTINEL_TYPE'), 'type'],
    ['no type', () => ({ data: example('x').data }), 'type'],
    [
      'completed without output',
      () => {
        const b = example('workflow.execution.completed');
        delete (b.data as Partial<typeof b.data>).output;
        return b;
      },
      'data.output',
    ],
    [
      'a numeric title',
      () => ({
        ...example('workflow.execution.completed'),
        data: { ...example('x').data, output: { title: 42 } },
      }),
      'data.output.title',
    ],
    ['no data', () => ({ type: 'workflow.execution.progress' }), 'data'],
    ['an array', () => [example('workflow.execution.progress')], '(root)'],
    ['null', () => null, '(root)'],
  ];

  it.each(malformed)('rejects %s with issues that carry no values', (_label, make, where) => {
    const raw = JSON.stringify(make());
    const result = parseCallbackBody(raw);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // Each issue is "<path>: <code>: <message>", joined by "; ".
    expect(result.issues.split('; ').map((i) => i.split(': ')[0])).toContain(where);
    expect(result.issues).not.toMatch(/SENTINEL|tok_|0b6c4a52|7451234567890123456|TTTT/);
  });

  it.each([
    ['{"type": "workflow.execution.progress", "data": {"callback_token": "tok_SENTINEL_42"'],
    ['SENTINEL not json'],
    [''],
  ])('rejects non-JSON %j without quoting it', (raw) => {
    expect(parseCallbackBody(raw)).toEqual({ ok: false, issues: 'body is not valid JSON' });
  });

  it('rejects a body over MAX_CALLBACK_BYTES (counted in UTF-8 bytes)', () => {
    const wrap = (content: string) =>
      JSON.stringify({
        type: 'workflow.execution.completed',
        data: { task_id: 't', callback_token: 'x', output: { content } },
      });
    const overhead = Buffer.byteLength(wrap(''));
    // 3-byte characters: under the limit in UTF-16 units, over it in bytes.
    const tooBig = wrap('字'.repeat(Math.ceil((MAX_CALLBACK_BYTES - overhead) / 3) + 1));
    expect(tooBig.length).toBeLessThan(MAX_CALLBACK_BYTES);
    expect(Buffer.byteLength(tooBig)).toBeGreaterThan(MAX_CALLBACK_BYTES);
    const result = parseCallbackBody(tooBig);
    expect(result).toEqual({
      ok: false,
      issues: expect.stringMatching(/larger than 1048576 bytes/),
    });
    const justFits = wrap('a'.repeat(MAX_CALLBACK_BYTES - overhead));
    expect(Buffer.byteLength(justFits)).toBe(MAX_CALLBACK_BYTES);
    expect(parseCallbackBody(justFits).ok).toBe(true);
  });
});

describe('callback output bounds', () => {
  const completed = (output: Record<string, string>) =>
    JSON.stringify({
      type: 'workflow.execution.completed',
      data: { task_id: 't1', execute_id: 'e1', callback_token: 'tok', output },
    });
  const parsedOutput = (output: Record<string, string>) => {
    const result = parseCallbackBody(completed(output));
    if (!result.ok) throw new Error(result.issues);
    return { output: result.body.data.output!, adjusted: result.adjusted };
  };

  it('a 100 KB title is cut to MAX_TITLE_LENGTH code points and marked', () => {
    const { output, adjusted } = parsedOutput({ title: '标'.repeat(100_000), content: '文' });
    expect(Array.from(output.title)).toHaveLength(MAX_TITLE_LENGTH + 1);
    expect(output.title.endsWith('…')).toBe(true);
    expect(adjusted).toEqual(['title']);
  });

  it('an over-long transcript is kept up to MAX_CONTENT_LENGTH and says it was cut', () => {
    const { output } = parsedOutput({ title: 't', content: '😀'.repeat(MAX_CONTENT_LENGTH + 5) });
    expect(output.content.endsWith(CONTENT_CUT_MARK)).toBe(true);
    const kept = output.content.slice(0, -CONTENT_CUT_MARK.length);
    expect(Array.from(kept)).toHaveLength(MAX_CONTENT_LENGTH);
    // No surrogate pair is split by the cut.
    expect(kept).toBe('😀'.repeat(MAX_CONTENT_LENGTH));
  });

  it('a transcript at the bound, and every real one, is kept as it is', () => {
    const exact = '字'.repeat(MAX_CONTENT_LENGTH);
    const { output, adjusted } = parsedOutput({ title: 'ok', content: exact });
    expect(output.content).toBe(exact);
    expect(adjusted).toEqual([]);
  });

  it('the largest result a get can answer stays well inside callFunction limits', () => {
    const worst = boundResult({
      title: '😀'.repeat(MAX_TITLE_LENGTH * 2),
      content: '😀'.repeat(MAX_CONTENT_LENGTH * 2),
      cover: `https://x/${'a'.repeat(MAX_MEDIA_URL_LENGTH)}`,
      video_url: `https://x/${'a'.repeat(MAX_MEDIA_URL_LENGTH - 20)}`,
    });
    expect(Buffer.byteLength(JSON.stringify(worst))).toBeLessThan(420_000);
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['JavaScript: with spaces', ' JavaScript:alert(document.cookie) '],
    ['data:', 'data:image/png;base64,AAAA'],
    ['a relative path', '/cover.jpg'],
    ['a scheme-less host', 'example.com/a.jpg'],
    ['an http URL with a quote', 'https://x.example/a".jpg'],
    ['an http URL with a space', 'https://x.example/a b.jpg'],
    ['ftp', 'ftp://x.example/a.mp4'],
    ['no host', 'https:///a.mp4'],
    ['too long', `https://x.example/${'a'.repeat(MAX_MEDIA_URL_LENGTH)}`],
  ])('drops a cover or video link that is %s', (_name, url) => {
    const { output, adjusted } = parsedOutput({
      title: 't',
      content: 'c',
      cover: url,
      video_url: url,
    });
    expect(output.cover).toBe('');
    expect(output.video_url).toBe('');
    expect(adjusted).toEqual(['cover', 'video_url']);
  });

  it('keeps http(s) media links', () => {
    const { output } = parsedOutput({
      title: 't',
      content: 'c',
      cover: 'https://p3.douyinpic.com/img/abc~tplv.jpeg?x-expires=1&sig=a%2Fb',
      video_url: 'http://v.example.com/x.mp4',
    });
    expect(output.cover).toBe('https://p3.douyinpic.com/img/abc~tplv.jpeg?x-expires=1&sig=a%2Fb');
    expect(output.video_url).toBe('http://v.example.com/x.mp4');
    expect(mediaUrlOrEmpty('HTTPS://Example.com/a.jpg')).toBe('HTTPS://Example.com/a.jpg');
  });

  it('removes control characters (line breaks stay in the transcript)', () => {
    const { output } = parsedOutput({
      title: 'a\u0000b\nc',
      content: '第一句\u0000。\n第二句\t！\u0007',
    });
    expect(output.title).toBe('abc');
    expect(output.content).toBe('第一句。\n第二句\t！');
  });
});
