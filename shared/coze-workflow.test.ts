import {
  EXECUTE_STATUS,
  START_INPUTS,
  decodeRunOutput,
  encodeRunOutput,
  endOutputsOf,
  envelopeSchema,
  historyAnswerSchema,
  runEndFromHistory,
  startAnswerSchema,
  startRequest,
  type HistoryEntryWire,
} from './coze-workflow';
import { workflowFailureCode } from './errors';

const RESULT = {
  title: '红烧肉',
  content: '大家好 "引号"\n第二行',
  cover: 'https://p3.example.com/c.jpg',
  video_url: 'https://v.example.com/v.mp4',
};
const keep = (text: string) => text;

describe('the start request', () => {
  it('sends the normalized link as share_text, asynchronously, with every Start input', () => {
    const req = startRequest('wf-1', {
      shareUrl: 'https://v.douyin.com/iRNBho6u/',
      taskId: 't1',
      callbackUrl: 'https://env.example/webhook/coze',
      callbackToken: 'tok',
    });
    expect(req).toEqual({
      workflow_id: 'wf-1',
      parameters: {
        share_text: 'https://v.douyin.com/iRNBho6u/',
        task_id: 't1',
        callback_url: 'https://env.example/webhook/coze',
        callback_token: 'tok',
      },
      is_async: true,
    });
    expect(Object.keys(req.parameters)).toEqual([...START_INPUTS]);
  });
});

describe("Coze's answers", () => {
  it('read a malformed optional field as missing, and keep a well-formed one', () => {
    expect(envelopeSchema.parse({ code: 0, msg: 5, detail: { logid: 7 } })).toEqual({ code: 0 });
    expect(envelopeSchema.parse({ code: '4009', msg: 'busy', detail: { logid: 'l1' } })).toEqual({
      code: 4009,
      msg: 'busy',
      detail: { logid: 'l1' },
    });
    expect(startAnswerSchema.parse({ code: 0, execute_id: 'e1', debug_url: {} })).toEqual({
      code: 0,
      execute_id: 'e1',
    });
    const entry = { execute_status: 'Running', execute_id: 1 };
    expect(historyAnswerSchema.parse({ code: 0, data: [entry] }).data).toEqual([
      { execute_status: 'Running' },
    ]);
  });

  it('refuse a missing or malformed required field with its path', () => {
    const r = startAnswerSchema.safeParse({ code: 0, execute_id: '' });
    expect(r.success ? [] : r.error.issues.map((i) => [i.path.join('.'), i.code])).toEqual([
      ['execute_id', 'too_small'],
    ]);
    expect(envelopeSchema.safeParse({ code: '1.5' }).success).toBe(false);
  });
});

describe('the End outputs in the run history', () => {
  it('are double-encoded, and decode back', () => {
    const output = encodeRunOutput(RESULT);
    expect(typeof JSON.parse(output).Output).toBe('string');
    expect(decodeRunOutput(output)).toEqual({ result: RESULT, error: '' });
  });

  it("mark a photo note's text by kind; a transcript, or no kind, reads as a transcript", () => {
    const note = { ...RESULT, video_url: '', kind: 'note' };
    expect(decodeRunOutput(encodeRunOutput(note))?.result).toEqual({
      ...RESULT,
      video_url: '',
      kind: 'note',
    });
    expect(decodeRunOutput(encodeRunOutput({ ...RESULT, kind: 'transcript' }))?.result).toEqual(
      RESULT,
    );
    expect(decodeRunOutput(encodeRunOutput({ ...RESULT, kind: 'weird' }))?.result).toEqual(RESULT);
    expect(decodeRunOutput(encodeRunOutput(endOutputsOf({ ...RESULT, kind: 'note' })))).toEqual({
      result: { ...RESULT, kind: 'note' },
      error: '',
    });
  });

  it('show an empty Output while running, which decodes to nothing', () => {
    expect(encodeRunOutput(null)).toBe('{"Output":""}');
    expect(decodeRunOutput(encodeRunOutput(null))).toBeNull();
  });

  it('carry the error as a code or as {code, message}', () => {
    expect(decodeRunOutput(encodeRunOutput({ error: ' NO_SPEECH ' }))?.error).toBe('NO_SPEECH');
    expect(decodeRunOutput(encodeRunOutput({ error: { code: 'TOO_LONG' } }))?.error).toBe(
      'TOO_LONG',
    );
  });
});

describe('failure codes in text', () => {
  it.each([
    ['photo_note', 'PHOTO_NOTE'],
    ['Exception: TOO_LONG: 视频超过 30 分钟', 'TOO_LONG'],
    ['XNO_SPEECH_Y', 'PROVIDER_ERROR'],
    ['', 'PROVIDER_ERROR'],
    // Our side's codes are not a workflow's to claim.
    ['TIMEOUT', 'PROVIDER_ERROR'],
    ['UPSTREAM_UNAVAILABLE: busy', 'PROVIDER_ERROR'],
    ['CANCELLED', 'PROVIDER_ERROR'],
    ['TOO_BUSY', 'PROVIDER_ERROR'],
  ])('%s → %s', (text, code) => {
    expect(workflowFailureCode(text)).toBe(code);
  });

  it('the first text that names a code wins', () => {
    expect(workflowFailureCode(undefined, 'error 42', 'NO_SPEECH: 静音')).toBe('NO_SPEECH');
  });
});

describe('a history entry as the run’s end', () => {
  const entry = (over: Partial<HistoryEntryWire>): HistoryEntryWire => ({
    execute_id: '7391',
    execute_status: EXECUTE_STATUS.running,
    create_time: 1,
    update_time: 1,
    output: encodeRunOutput(null),
    error_code: '',
    error_message: '',
    debug_url: '',
    ...over,
  });
  const read = (e: HistoryEntryWire) => {
    const parsed = historyAnswerSchema.parse({ code: 0, data: [e] }).data[0]!;
    return runEndFromHistory(parsed, keep);
  };

  it('Running has not ended', () => {
    expect(read(entry({}))).toBeNull();
  });

  it('Success with outputs is completed with the result, from history', () => {
    expect(
      read(entry({ execute_status: EXECUTE_STATUS.success, output: encodeRunOutput(RESULT) })),
    ).toEqual({ event: { type: 'completed', result: RESULT, source: 'history' }, detail: null });
  });

  it('Fail as the docs’ workflow raises it keeps the code', () => {
    expect(
      read(
        entry({
          execute_status: EXECUTE_STATUS.fail,
          error_code: 'PHOTO_NOTE',
          error_message: 'PHOTO_NOTE: 图文',
        }),
      ),
    ).toEqual({
      event: { type: 'failed', errorCode: 'PHOTO_NOTE', source: 'history' },
      detail: 'PHOTO_NOTE: 图文',
    });
  });

  it('scrubs what it keeps of a failure message', () => {
    const end = runEndFromHistory(
      { execute_status: EXECUTE_STATUS.fail, error_message: 'boom secret-xyz' },
      (text: string) => text.replace('secret-xyz', '***'),
    );
    expect(end).toEqual({
      event: { type: 'failed', errorCode: 'PROVIDER_ERROR', source: 'history' },
      detail: 'boom ***',
    });
  });
});
