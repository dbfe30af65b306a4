/**
 * The two Python code nodes in docs/coze-workflow.md decide every run's outcome (`classify`) and
 * sign every real callback (`sign_callback`), so both are run here (python3, stdlib only):
 * `classify` on every plugin outcome, exceptions under 返回设定内容 included, and its answer signed
 * and read back with the same verifier and schema the webhook uses. The page itself is held to the
 * contract the backend and the stand-in use (shared/coze-workflow.ts, shared/callback.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { callbackBodySchema, eventFromCallback, type CallbackBody } from '../shared/callback';
import { verifyCallback } from '../shared/signing';
import { CONTENT_CUT_MARK } from '../shared/result';
import {
  COZE_CODES,
  END_OUTPUTS,
  EXECUTE_STATUS,
  START_INPUTS,
  encodeRunOutput,
  runEndFromHistory,
} from '../shared/coze-workflow';
import { WORKFLOW_FAILURE_CODES } from '../shared/errors';
import type { TaskEvent } from '../shared/status';

const DOC = join(__dirname, '..', 'docs', 'coze-workflow.md');
const SECRET = `whsec_${Buffer.from('coze-workflow-doc-test-secret-0001').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('some-other-secret-entirely-000001').toString('base64')}`;

/** Coze gives the code node `Args` (with `.params`) and `Output`; these stubs stand in for them. */
const HARNESS_HEAD = `
import asyncio as _asyncio
import json as _json
import sys as _sys


class Args:
    def __init__(self, params):
        self.params = params


Output = dict
`;

const HARNESS_TAIL = `

# Every case in one process: python3 takes a while to start on some machines.
_results = []
for _case in _json.loads(_sys.stdin.buffer.read().decode("utf-8")):
    WEBHOOK_SECRET = _case["secret"] if _case.get("secret") is not None else _PLACEHOLDER
    try:
        _results.append({"ok": _asyncio.run(main(Args(_case["params"])))})
    except Exception as _e:
        _results.append({"error": repr(_e)})
# ASCII on stdout: no dependence on the machine's locale.
_sys.stdout.write(_json.dumps(_results, ensure_ascii=True))
`;

function pythonBlocks(): string[] {
  const doc = readFileSync(DOC, 'utf8');
  return [...doc.matchAll(/^```python\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

/** The `sign_callback` node's code (the block holding the secret). */
const signBlock = () => pythonBlocks().find((b) => b.includes('WEBHOOK_SECRET = ')) ?? '';
/** The `check_link` / `classify` node's code (the block with the outcome rules). */
const classifyBlock = () => pythonBlocks().find((b) => b.includes('FINAL_RULES = ')) ?? '';

function python3Available(): { ok: true } | { ok: false; why: string } {
  const r = spawnSync('python3', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { ok: false, why: r.error.message };
  if (r.status !== 0) return { ok: false, why: `exit ${String(r.status)}: ${r.stderr}` };
  return { ok: true };
}

interface NodeResult {
  body: string;
  headers: Record<string, string>;
  webhook_id: string;
  webhook_timestamp: string;
  webhook_signature: string;
}

interface Case {
  params: Record<string, unknown>;
  /** null: leave the doc's placeholder in place */
  secret?: string | null;
}

const CONTENT =
  '大家好，今天教大家做红烧肉😋。先把五花肉切块，"焯水"去腥\\n再小火慢炖 👩‍🍳 四十分钟。\n第二行';

const FINAL = {
  event: 'final',
  task_id: '0b6c1f3e-4a8d-4c43-9a55-2f1f0d7f8e21',
  callback_token: 'cbtok_Zx9-abc',
  title: '三分钟学会做红烧肉 🍖',
  content: CONTENT,
  cover: 'https://p3.example/cover.jpg?x=1&y=2',
  video_url: 'https://v.example/video.mp4',
  error_code: '',
  error_message: '',
};

const CASES = {
  final: { params: FINAL },
  finalAgain: { params: FINAL },
  photoNote: {
    params: {
      ...FINAL,
      content: '',
      error_code: 'photo_note',
      error_message: '图文笔记，没有语音',
    },
  },
  unknownCode: { params: { ...FINAL, error_code: 'boom' } },
  note: { params: { ...FINAL, video_url: '', kind: 'note' } },
  noteFailed: { params: { ...FINAL, kind: 'note', error_code: 'PHOTO_NOTE' } },
  progress: {
    params: {
      task_id: FINAL.task_id,
      callback_token: FINAL.callback_token,
      event: 'progress',
      progress: 30,
    },
  },
  odd: {
    params: { task_id: 't1', callback_token: 'c', title: null, progress: 'x', event: 'progress' },
  },
  placeholder: { params: FINAL, secret: null },
  huge: { params: { ...FINAL, content: '字'.repeat(400_000) } },
} satisfies Record<string, Case>;
type CaseName = keyof typeof CASES;

let results: Partial<Record<CaseName, { ok?: NodeResult; error?: string }>> = {};
let runFailure: Error | null = null;

/** Runs every case through the doc's code node at once (python3 is slow to start). */
beforeAll(() => {
  const workDir = mkdtempSync(join(tmpdir(), 'coze-doc-'));
  try {
    const script = join(workDir, 'node.py');
    // The placeholder is kept aside so a case can run with the code exactly as documented.
    writeFileSync(
      script,
      HARNESS_HEAD + signBlock() + '\n_PLACEHOLDER = WEBHOOK_SECRET\n' + HARNESS_TAIL,
    );
    const py = python3Available();
    if (!py.ok) {
      throw new Error(
        `python3 is required to test the code node in docs/coze-workflow.md but could not run (${py.why}). Install python3.`,
      );
    }
    const names = Object.keys(CASES) as CaseName[];
    const input = names.map((n) => {
      const c: Case = CASES[n];
      return { params: c.params, secret: c.secret === undefined ? SECRET : c.secret };
    });
    const r = spawnSync('python3', [script], {
      input: JSON.stringify(input),
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (r.error) throw r.error;
    if (r.status !== 0)
      throw new Error(`the code node harness failed (exit ${String(r.status)}):\n${r.stderr}`);
    const out = JSON.parse(r.stdout) as { ok?: NodeResult; error?: string }[];
    results = Object.fromEntries(names.map((n, i) => [n, out[i]]));
  } catch (err) {
    runFailure = err instanceof Error ? err : new Error(String(err));
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

/** The code node's answer for a case; throws (failing the test) when it raised or python3 is missing. */
function runNode(name: CaseName): NodeResult {
  if (runFailure) throw runFailure;
  const r = results[name];
  if (!r?.ok) throw new Error(`code node raised for ${name}: ${r?.error ?? 'no result'}`);
  return r.ok;
}

describe('docs/coze-workflow.md code node', () => {
  it('python3 is available (the doc test cannot run without it)', () => {
    const py = python3Available();
    if (!py.ok) throw new Error(`python3 is required for this test but could not run: ${py.why}`);
    if (runFailure) throw runFailure;
  });

  it('is two python blocks in the shape Coze expects, using only the stdlib modules allowed', () => {
    expect(pythonBlocks()).toHaveLength(2);
    for (const [code, allowed] of [
      [signBlock(), ['base64', 'hashlib', 'hmac', 'json', 'time', 'uuid']],
      [classifyBlock(), ['json', 're']],
    ] as const) {
      expect(code).toContain('async def main(args: Args) -> Output:');
      expect(code).toContain('args.params');
      const imports = [...code.matchAll(/^(?:import|from)\s+([\w.]+)/gm)].map((m) => m[1]);
      expect(imports.length).toBeGreaterThan(0);
      for (const mod of imports) expect(allowed).toContain(mod);
    }
  });

  it('signs a completed callback the webhook verifier accepts, Chinese and emoji intact', () => {
    const out = runNode('final');
    const nowS = Date.now() / 1000;
    expect(verifyCallback([SECRET], out.headers, out.body, nowS)).toEqual({ ok: true });
    // The raw bytes the HTTP node sends are the UTF-8 of the body text.
    expect(verifyCallback([SECRET], out.headers, Buffer.from(out.body, 'utf8'), nowS)).toEqual({
      ok: true,
    });
    // And the reference implementation agrees.
    expect(() => new Webhook(SECRET).verify(out.body, out.headers)).not.toThrow();

    expect(out.headers['webhook-id']).toBe(out.webhook_id);
    expect(out.headers['webhook-timestamp']).toBe(out.webhook_timestamp);
    expect(out.headers['webhook-signature']).toBe(out.webhook_signature);
    expect(out.webhook_id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(out.webhook_timestamp) - nowS)).toBeLessThan(30);
    expect(out.webhook_signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);

    const body = callbackBodySchema.parse(JSON.parse(out.body));
    expect(body).toEqual({
      type: 'workflow.execution.completed',
      data: {
        task_id: FINAL.task_id,
        execute_id: '',
        callback_token: FINAL.callback_token,
        progress: 100,
        output: {
          title: FINAL.title,
          content: CONTENT,
          cover: FINAL.cover,
          video_url: FINAL.video_url,
        },
        error: { code: '', message: '' },
      },
    });
    // Kept as UTF-8, not \\u escapes (half the size; readable in request inspectors).
    expect(out.body).toContain('红烧肉😋');
  });

  it('a wrong secret or a changed body is refused', () => {
    const out = runNode('final');
    const nowS = Date.now() / 1000;
    expect(verifyCallback([OTHER_SECRET], out.headers, out.body, nowS)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(
      verifyCallback([SECRET], out.headers, out.body.replace('红烧肉', '红烧鱼'), nowS),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    // Rotation: the old secret beside the new one still passes.
    expect(verifyCallback([OTHER_SECRET, SECRET], out.headers, out.body, nowS)).toEqual({
      ok: true,
    });
  });

  it('each run signs with a new webhook-id', () => {
    expect(runNode('final').webhook_id).not.toBe(runNode('finalAgain').webhook_id);
  });

  it('a failure code makes a failed callback; an unknown one becomes PROVIDER_ERROR', () => {
    const note = runNode('photoNote');
    expect(verifyCallback([SECRET], note.headers, note.body, Date.now() / 1000)).toEqual({
      ok: true,
    });
    const body = callbackBodySchema.parse(JSON.parse(note.body));
    expect(body.type).toBe('workflow.execution.failed');
    expect(body.data.error).toEqual({ code: 'PHOTO_NOTE', message: '图文笔记，没有语音' });

    const odd = callbackBodySchema.parse(JSON.parse(runNode('unknownCode').body));
    expect(odd).toMatchObject({
      type: 'workflow.execution.failed',
      data: { error: { code: 'PROVIDER_ERROR' } },
    });
  });

  it("a photo note's text is sent marked as the note; a failure is never a note", () => {
    const note = callbackBodySchema.parse(JSON.parse(runNode('note').body));
    expect(note).toMatchObject({
      type: 'workflow.execution.completed',
      data: { output: { kind: 'note', content: CONTENT, video_url: '' } },
    });
    const failed = JSON.parse(runNode('noteFailed').body) as CallbackBody;
    expect(failed.type).toBe('workflow.execution.failed');
    expect(failed.data.output).toMatchObject({ kind: 'transcript' });
    // A transcript is said too (the schema reads it as the default, spelled by absence).
    expect(JSON.parse(runNode('final').body)).toMatchObject({
      data: { output: { kind: 'transcript' } },
    });
  });

  it('progress copies post a progress callback', () => {
    const out = runNode('progress');
    expect(verifyCallback([SECRET], out.headers, out.body, Date.now() / 1000)).toEqual({
      ok: true,
    });
    const body = callbackBodySchema.parse(JSON.parse(out.body));
    expect(body).toMatchObject({ type: 'workflow.execution.progress', data: { progress: 30 } });
  });

  it('tolerates missing inputs and odd values', () => {
    const out = runNode('odd');
    const body = callbackBodySchema.parse(JSON.parse(out.body));
    expect(body).toMatchObject({ type: 'workflow.execution.progress', data: { progress: 0 } });
  });

  it('refuses to sign while the secret placeholder is still there', () => {
    expect(runFailure).toBeNull();
    expect(results.placeholder?.ok).toBeUndefined();
    expect(results.placeholder?.error).toMatch(/secret is not configured/);
  });

  it('keeps a huge transcript under the 1 MiB webhook limit and still signs it', () => {
    const out = runNode('huge');
    expect(Buffer.byteLength(out.body, 'utf8')).toBeLessThanOrEqual(1_000_000);
    expect(verifyCallback([SECRET], out.headers, out.body, Date.now() / 1000)).toEqual({
      ok: true,
    });
    const sent = JSON.parse(out.body) as { data: { output: { content: string } } };
    expect(sent.data.output.content.length).toBeGreaterThan(250_000);
    // What we keep of it is bounded (shared/callback.ts), and says it was cut.
    const body = callbackBodySchema.parse(sent);
    if (body.type !== 'workflow.execution.completed') throw new Error('not completed');
    expect(body.data.output.content.endsWith(CONTENT_CUT_MARK)).toBe(true);
  });
});

/** How a run ended, in the task's words, whichever way the backend learns it. */
function endOf(event: TaskEvent): string {
  if (event.type === 'failed') return `failed ${event.errorCode}`;
  return event.type;
}

const PROOF = { tokenHash: 'h', executeId: null, deliveryId: 'msg_doc' };
const endOfCallback = (body: CallbackBody): string => endOf(eventFromCallback(body, PROOF));

describe('the callback and the run history tell the same end', () => {
  it.each(['final', 'photoNote', 'unknownCode', 'note'] as const)('%s', (name) => {
    const params: Record<string, unknown> = CASES[name].params;
    const callback = callbackBodySchema.parse(JSON.parse(runNode(name).body));
    // The End node, bound as the page says: classify's outputs, `error` = classify.error_code.
    const end = {
      title: params.title,
      content: params.content,
      cover: params.cover,
      video_url: params.video_url,
      error: params.error_code,
      kind: params.kind ?? 'transcript',
    };
    expect(Object.keys(end)).toEqual([...END_OUTPUTS]);
    const history = runEndFromHistory(
      { execute_status: EXECUTE_STATUS.success, output: encodeRunOutput(end) },
      (text: string) => text,
    );
    if (!history) throw new Error('a finished run reads as running');
    expect(endOf(history.event)).toBe(endOfCallback(callback));
    if (history.event.type === 'completed' && callback.type === 'workflow.execution.completed') {
      expect(history.event.result).toEqual(callback.data.output);
    }
  });
});

describe('docs/coze-workflow.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  /** First-column names of the table rows, e.g. "| `share_text` | ..." */
  const firstColumn = (section: string) =>
    [...section.matchAll(/^\| `([A-Za-z_]+)` +\|/gm)].map((m) => m[1]);
  const section = (from: string, to: string) => doc.slice(doc.indexOf(from), doc.indexOf(to));

  it('the Start node has exactly the inputs the backend sends', () => {
    expect(firstColumn(section('## 1. Start node', '## 2.'))).toEqual([...START_INPUTS]);
    expect(doc).toContain(
      `Start node has exactly ${START_INPUTS.map((i) => `\`${i}\``).join(', ')} (String)`,
    );
  });

  it('the End node returns exactly the outputs the run history is read for', () => {
    // The exact output name in the first column, bound to classify (prettier aligns the tables).
    const rows = [
      ...section('## 5. End node', '## Progress').matchAll(
        /^\| `([a-z_]+)` +\| String +\| `classify\./gm,
      ),
    ].map((m) => m[1]);
    expect(rows).toEqual([...END_OUTPUTS]);
  });

  it('classify uses exactly the failure codes a workflow may report, and so does the code node', () => {
    const table = section('`classify` decides the outcome', '## 3.');
    expect(firstColumn(table).filter((c) => c !== 'error_code')).toEqual([
      ...WORKFLOW_FAILURE_CODES,
    ]);
    const tuple = /^FAILURE_CODES = \(([^)]*)\)/m.exec(signBlock())?.[1] ?? '';
    expect(tuple.split(',').map((c) => c.trim().replace(/^"|"$/g, ''))).toEqual([
      ...WORKFLOW_FAILURE_CODES,
    ]);
  });

  it("names the Coze answers the backend tells apart, and the plan's facts", () => {
    const answers = section('What the backend does with Coze', '## 9.');
    for (const [name, code] of Object.entries(COZE_CODES)) {
      // A malformed request is our bug, not an operator's: the page need not explain it.
      if (name !== 'invalidRequest') expect(answers).toContain(String(code));
    }
    for (const fact of ['sat_', 'ignore exceptions', 'is_async']) expect(doc).toContain(fact);
  });
});

// ---------------------------------------------------------------------------------------------
// classify: every plugin outcome to one of our codes

/** Runs the classify code on each case, in its own namespace, and signs its answer with sign_callback. */
const CLASSIFY_HARNESS = `
import asyncio as _asyncio
import json as _json
import sys as _sys


class Args:
    def __init__(self, params):
        self.params = params


_input = _json.loads(_sys.stdin.buffer.read().decode("utf-8"))
_classify = {"Args": Args, "Output": dict}
exec(_input["classify"], _classify)
_sign = {"Args": Args, "Output": dict}
exec(_input["sign"], _sign)
_sign["WEBHOOK_SECRET"] = _input["secret"]
_results = []
for _params in _input["cases"]:
    try:
        _out = _asyncio.run(_classify["main"](Args(_params)))
        _signed = _asyncio.run(_sign["main"](Args(dict(_out, event="final", task_id="t-1", callback_token="tok-1"))))
        _results.append({"out": _out, "signed": _signed})
    except Exception as _e:
        _results.append({"error": repr(_e)})
_sys.stdout.write(_json.dumps(_results, ensure_ascii=True))
`;

const NO_ERROR = { errorMessage: '', errorCode: '' };
/** parse_link as a Douyin video tool answers, bound as the binding sheet says. */
const LINK = {
  stage: 'link',
  share_text: 'https://v.douyin.com/iRNBho6u/',
  link_ok: true,
  link_error: NO_ERROR,
  media_type: 'video',
  duration: '95',
  duration_unit: 's',
  title: '三分钟学会做红烧肉',
  cover: 'https://p3.example/cover.jpg',
  video_url: 'https://v.example/video.mp4',
};
const TRANSCRIBED = {
  ...LINK,
  stage: 'final',
  speech_ok: true,
  speech_error: NO_ERROR,
  text: '大家好，今天做红烧肉',
};
/** What 返回设定内容 leaves when a node fails: isSuccess false, errorBody set, outputs as set (empty). */
const failedLink = (errorMessage: string, errorCode = '') => ({
  link_ok: false,
  link_error: { errorMessage, errorCode },
  media_type: '',
  duration: '',
  title: '',
  cover: '',
  video_url: '',
});

/** A Xiaohongshu photo note as a parse tool answers it: no video, its own title and body. */
const NOTE_LINK = {
  ...LINK,
  share_text: 'https://www.xiaohongshu.com/explore/64a1b2c3d4e5f6',
  media_type: 'normal',
  duration: '',
  title: '杭州小众咖啡店合集',
  note_text: '周末去了三家小众咖啡店，第一家在巷子里。#咖啡',
  video_url: '',
};
const UNTOUCHED = { speech_ok: null, speech_error: null, text: null };
/** A photo note with no words of its own. */
const BARE = { title: '', note_text: '' };

/** [name, inputs, error_code, content (final stage), kind] */
const CLASSIFY_CASES: [string, Record<string, unknown>, string, string?, string?][] = [
  ['a video within 30 minutes may be transcribed', LINK, ''],
  ['its transcript is the result', TRANSCRIBED, '', '大家好，今天做红烧肉'],
  [
    'a transcript given as segments is joined',
    { ...TRANSCRIBED, text: JSON.stringify([{ text: '第一句' }, { text: '第二句' }]) },
    '',
    '第一句\n第二句',
  ],
  [
    'a parse exception naming a deleted video',
    { ...LINK, ...failedLink('作品不存在或已被删除', '702') },
    'VIDEO_UNAVAILABLE',
  ],
  [
    'a parse exception naming a private one',
    { ...LINK, ...failedLink('this video is private') },
    'VIDEO_UNAVAILABLE',
  ],
  [
    'a parse timeout',
    { ...LINK, ...failedLink('plugin execution timeout, 超时') },
    'PROVIDER_ERROR',
  ],
  [
    'any other parse exception',
    { ...LINK, ...failedLink('quota exceeded', '429') },
    'PROVIDER_ERROR',
  ],
  [
    'an exception with isSuccess unbound (errorBody alone)',
    { ...LINK, link_ok: null, link_error: { errorMessage: 'internal error', errorCode: '500' } },
    'PROVIDER_ERROR',
  ],
  [
    'errorBody as JSON text and isSuccess as text',
    { ...LINK, link_ok: 'false', link_error: '{"errorMessage":"404 not found","errorCode":"404"}' },
    'VIDEO_UNAVAILABLE',
  ],
  [
    'an image note by type with no text (Douyin 图文)',
    { ...LINK, ...BARE, media_type: '图文' },
    'PHOTO_NOTE',
  ],
  [
    'an image note by type with no text (Xiaohongshu normal)',
    { ...LINK, ...BARE, media_type: 'normal' },
    'PHOTO_NOTE',
  ],
  [
    'a Douyin /note/ link with no text, whatever the type says',
    { ...LINK, ...BARE, share_text: 'https://www.douyin.com/note/7301234567890' },
    'PHOTO_NOTE',
  ],
  [
    'a photo note with text skips transcription at the link stage',
    NOTE_LINK,
    '',
    undefined,
    'note',
  ],
  [
    "a Xiaohongshu photo note's body is the result, marked as the note",
    { ...NOTE_LINK, stage: 'final', ...UNTOUCHED },
    '',
    NOTE_LINK.note_text,
    'note',
  ],
  [
    'a photo note with only a title gives the title',
    { ...NOTE_LINK, stage: 'final', note_text: '', ...UNTOUCHED },
    '',
    NOTE_LINK.title,
    'note',
  ],
  [
    'a Douyin 图文 with its description',
    {
      ...LINK,
      stage: 'final',
      share_text: 'https://www.douyin.com/note/7301234567890',
      note_text: '今天的晚饭',
      ...UNTOUCHED,
    },
    '',
    '今天的晚饭',
    'note',
  ],
  ['no video URL', { ...LINK, video_url: '' }, 'VIDEO_UNAVAILABLE'],
  ['over 30 minutes, in seconds', { ...LINK, duration: '1801' }, 'TOO_LONG'],
  [
    'over 30 minutes, in milliseconds',
    { ...LINK, duration: '1801000', duration_unit: 'ms' },
    'TOO_LONG',
  ],
  ['over 30 minutes, as mm:ss', { ...LINK, duration: '30:01' }, 'TOO_LONG'],
  ['exactly 30 minutes', { ...LINK, duration: '1800000', duration_unit: 'ms' }, ''],
  [
    '15 s counted in milliseconds is not long',
    { ...LINK, duration: '15000', duration_unit: 'ms' },
    '',
  ],
  ['no duration: no length check', { ...LINK, duration: '' }, ''],
  [
    'a transcription exception',
    {
      ...TRANSCRIBED,
      speech_ok: false,
      speech_error: { errorMessage: 'ASR timeout', errorCode: '5000' },
      text: '',
    },
    'PROVIDER_ERROR',
  ],
  ['an empty transcript', { ...TRANSCRIBED, text: ' \n ' }, 'NO_SPEECH'],
  [
    'no transcript and isSuccess unbound',
    { ...TRANSCRIBED, speech_ok: null, speech_error: null, text: '' },
    'NO_SPEECH',
  ],
  [
    'final after the condition skipped transcribe (image note, no text)',
    { ...TRANSCRIBED, ...BARE, media_type: 'image', ...UNTOUCHED },
    'PHOTO_NOTE',
  ],
  [
    'final after the condition skipped transcribe (too long)',
    { ...TRANSCRIBED, duration: '3600', speech_ok: null, speech_error: null, text: null },
    'TOO_LONG',
  ],
];

interface Classified {
  out?: Record<string, string>;
  signed?: NodeResult;
  error?: string;
}
let classified: Classified[] = [];
let classifyFailure: Error | null = null;

beforeAll(() => {
  try {
    const r = spawnSync('python3', ['-c', CLASSIFY_HARNESS], {
      input: JSON.stringify({
        classify: classifyBlock(),
        sign: signBlock(),
        secret: SECRET,
        cases: CLASSIFY_CASES.map((c) => c[1]),
      }),
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`the classify harness failed:\n${r.stderr}`);
    classified = JSON.parse(r.stdout) as Classified[];
  } catch (err) {
    classifyFailure = err instanceof Error ? err : new Error(String(err));
  }
});

describe('docs/coze-workflow.md classify node', () => {
  it.each(CLASSIFY_CASES.map((c, i) => [c[0], i] as const))('%s', (_name, i) => {
    if (classifyFailure) throw classifyFailure;
    const [, params, code, content, kind = 'transcript'] = CLASSIFY_CASES[i]!;
    const r = classified[i];
    if (!r?.out || !r.signed) throw new Error(`classify raised: ${r?.error ?? 'no result'}`);
    expect(r.out.error_code).toBe(code);
    expect(r.out.kind).toBe(kind);
    if (code) {
      expect(r.out.content).toBe('');
      expect(r.out.error_message).not.toBe('');
    } else if (params.stage === 'final') {
      expect(r.out.content).toBe(content);
    }
    // Signed as sign_callback signs it, read as the webhook reads it: the task ends with this code.
    expect(verifyCallback([SECRET], r.signed.headers, r.signed.body, Date.now() / 1000)).toEqual({
      ok: true,
    });
    const body = callbackBodySchema.parse(JSON.parse(r.signed.body));
    if (params.stage === 'final') {
      expect(endOfCallback(body)).toBe(code ? `failed ${code}` : 'completed');
      // The note is marked as such all the way to what the task stores.
      expect(body.data.output?.kind ?? 'transcript').toBe(kind);
    }
  });

  it('every failure code a workflow may report is reached by some outcome', () => {
    const reached = new Set(CLASSIFY_CASES.map((c) => c[2]).filter(Boolean));
    expect([...reached].sort()).toEqual([...WORKFLOW_FAILURE_CODES].sort());
    for (const code of WORKFLOW_FAILURE_CODES) expect(classifyBlock()).toContain(`"${code}"`);
  });
});
