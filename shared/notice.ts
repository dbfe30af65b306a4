/**
 * Builds the arguments of `cloud.openapi.subscribeMessage.send` for a finished task.
 *
 * WeChat refuses a whole message (47003) when one value breaks its keyword type's rule, and a
 * refused send burns nothing but also tells the user nothing, so every value is fitted here by the
 * rule of its keyword name (`thing1` → thing, ...). Pure: no clock, no `Intl`, no platform API, so
 * it also runs in the mini-program bundle.
 */
import { isFailureCode, type FailureCode } from './errors';
import { withoutBidi } from './result';
import { pad2, shanghaiParts } from './time';

export type NoticeKind = 'success' | 'failure';
export type MiniprogramState = 'developer' | 'trial' | 'formal';

export interface NoticeTemplate {
  id: string;
  /** Keyword names, e.g. {title: 'thing1', status: 'phrase2', time: 'time3', note: 'thing4'}. */
  keys: { title: string; status: string; time: string; note?: string; reason?: string };
}

export interface NoticeInput {
  kind: NoticeKind;
  taskId: string;
  openid: string;
  /** The video's name (the result's title, else the share text's caption); empty: a default. */
  title: string;
  /**
   * Why it failed: a failure code (the notice says it in its own words, `NOTICE_REASONS`, written
   * to fit the keyword) or, for anything else, a user-safe Chinese text (fitted, cut if it must).
   */
  reason?: string;
  finishedAt: Date;
  miniprogramState?: MiniprogramState;
}

export interface SubscribeMessage {
  touser: string;
  templateId: string;
  page: string;
  data: Record<string, { value: string }>;
  miniprogramState: MiniprogramState;
  lang: 'zh_CN';
}

/**
 * The page a tapped notice opens. WeChat documents `page` relative to the app root and without a
 * leading slash (`index?foo=bar`), so it is `pages/index/index`, not `/pages/index/index`.
 */
export const NOTICE_PAGE = 'pages/index/index';
export const DEFAULT_NOTICE_TITLE = '短视频文案';
const NOTICE_STATUS: Record<NoticeKind, string> = { success: '已完成', failure: '失败' };
export const SUCCESS_NOTE = '点击查看完整文案';
export const DEFAULT_FAILURE_REASON = '提取失败，请稍后重试';
/** The note of a failure notice whose template also has a separate reason keyword. */
export const FAILURE_NOTE = '点击查看详情或重试';

/**
 * Failure reasons as a notice says them. The page's reasons (FAILURE_MESSAGES) run to 35
 * characters; a `thing` keyword keeps 20, so they would be cut mid-word. These are written to fit
 * instead: `text` within 20 characters (thing, the usual reason keyword, and the note), `short`
 * within 5 Han characters (a `phrase` or `short_thing` keyword). Each says what happened in
 * whole words; the page, one tap away, says the rest.
 */
export const NOTICE_REASONS: Readonly<Record<FailureCode, { text: string; short: string }>> = {
  VIDEO_UNAVAILABLE: { text: '视频无法访问，可能已删除或设为私密', short: '视频不可用' },
  PHOTO_NOTE: { text: '这篇图文笔记里没有可提取的文字', short: '笔记无文字' },
  TOO_LONG: { text: '视频超过30分钟，暂时不支持', short: '视频太长' },
  NO_SPEECH: { text: '视频里没有识别到说话的声音', short: '没有人声' },
  PROVIDER_ERROR: { text: '提取服务出错了，请稍后重试', short: '服务出错' },
  UPSTREAM_UNAVAILABLE: { text: '提取服务繁忙，请稍后重试', short: '服务繁忙' },
  TOO_BUSY: { text: '排队的人太多没能开始，次数已退回', short: '排队太久' },
  TIMEOUT: { text: '处理超时了，请重新提取', short: '处理超时' },
  CANCELLED: { text: '你取消了这次提取', short: '已取消' },
};

type KeywordType =
  | 'thing'
  | 'short_thing'
  | 'name'
  | 'phrase'
  | 'character_string'
  | 'number'
  | 'letter'
  | 'symbol'
  | 'phone_number'
  | 'car_number'
  | 'amount'
  | 'time'
  | 'date';

interface ValueRule {
  /** Maximum length in characters (code points); none for time, date, amount. */
  max?: number;
  /** One character the type allows; others are dropped. */
  allowed?: RegExp;
  /** Cut with a trailing `…` (text) rather than plainly (codes, numbers). */
  ellipsis?: boolean;
  /** Used when nothing is left, since WeChat refuses empty values; none: refuse. */
  fallback?: string;
}

// From WeChat's subscribeMessage.send documentation of keyword value rules.
const VALUE_RULES: Record<KeywordType, ValueRule> = {
  thing: { max: 20, ellipsis: true, fallback: '无' },
  short_thing: { max: 5, ellipsis: true, fallback: '无' },
  name: { max: 10, fallback: '无' },
  phrase: { max: 5, allowed: /\p{Script=Han}/u, fallback: '无' },
  character_string: { max: 32, allowed: /[\x21-\x7e]/, fallback: '-' },
  number: { max: 32, allowed: /[0-9.]/, fallback: '0' },
  letter: { max: 32, allowed: /[A-Za-z]/, fallback: 'NA' },
  symbol: { max: 5, allowed: /[^\p{L}\p{N}\s]/u, fallback: '-' },
  phone_number: { max: 17, allowed: /[0-9+-]/, fallback: '-' },
  car_number: { max: 8, fallback: '-' },
  amount: { fallback: '0' },
  time: {},
  date: {},
};

const KEYWORD_NAME = /^([a-z]+(?:_[a-z]+)*)(\d+)$/;

function keywordType(keyword: string): KeywordType | null {
  const m = KEYWORD_NAME.exec(keyword);
  const type = m?.[1];
  return type !== undefined && Object.prototype.hasOwnProperty.call(VALUE_RULES, type)
    ? (type as KeywordType)
    : null;
}

/**
 * No newline, control or bidi character may reach WeChat (a U+202E in a title would reverse the
 * notice's text on the user's phone); runs of whitespace become one space.
 */
function sanitize(value: string): string {
  return (
    withoutBidi(value)
      // eslint-disable-next-line no-control-regex -- control characters are exactly the target
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

// Joiners and variation selectors that would dangle at a cut.
const DANGLING = /(?:\u200d|\ufe0e|\ufe0f)+$/;

/** The most a keyword of this name keeps, in characters (none: unbounded). */
function keywordMax(keyword: string): number | undefined {
  const type = keywordType(keyword);
  return type === null ? undefined : VALUE_RULES[type].max;
}

/**
 * A failure's reason for this keyword: the written-to-fit words of a failure code (the full ones
 * where they fit, else the short ones), or the given text, to be fitted like any value.
 */
function reasonFor(keyword: string, reason: string): string {
  const code = reason.trim();
  if (!isFailureCode(code)) return reason;
  const words = NOTICE_REASONS[code];
  const max = keywordMax(keyword);
  return max === undefined || Array.from(words.text).length <= max ? words.text : words.short;
}

/** Fits a value to the rule of its keyword name's type (`thing4` → thing). Throws on an unknown type. */
export function fitKeywordValue(keyword: string, value: string): string {
  const type = keywordType(keyword);
  if (type === null) throw new Error(`unknown subscription keyword type in "${keyword}"`);
  const rule = VALUE_RULES[type];
  // Code points, so a surrogate pair (an emoji) is never split.
  let chars = Array.from(sanitize(value));
  if (rule.allowed) {
    const allowed = rule.allowed;
    chars = chars.filter((c) => allowed.test(c));
  }
  let out = chars.join('');
  if (rule.max !== undefined && chars.length > rule.max) {
    out = rule.ellipsis
      ? chars
          .slice(0, rule.max - 1)
          .join('')
          .replace(DANGLING, '')
          .trimEnd() + '…'
      : chars.slice(0, rule.max).join('').replace(DANGLING, '').trimEnd();
  }
  if (out !== '') return out;
  if (rule.fallback === undefined) throw new Error(`empty value for keyword "${keyword}"`);
  return rule.fallback;
}

/** `2026年11月28日 15:01` in Asia/Shanghai. */
export function formatShanghaiTime(d: Date): string {
  if (!Number.isFinite(d.getTime())) throw new RangeError('formatShanghaiTime: invalid date');
  const s = shanghaiParts(d);
  return `${s.year}年${s.month}月${s.day}日 ${pad2(s.hour)}:${pad2(s.minute)}`;
}

const FIELDS = ['title', 'status', 'time', 'note', 'reason'] as const;
type Field = (typeof FIELDS)[number];
const REQUIRED_FIELDS: readonly Field[] = ['title', 'status', 'time'];
const SPEC_EXAMPLE = 'title:thing1,status:phrase2,time:time3,note:thing4';

/**
 * Parses a template's keyword map from configuration, e.g. `title:thing1,status:phrase2,time:time3`.
 * Throws an Error naming the problem. The config reads the keys at cold start (shared/config.ts),
 * so a misconfigured template is logged once by key name and every invocation answers "not
 * configured", instead of each send failing on its own later.
 */
export function parseTemplateKeys(spec: string): NoticeTemplate['keys'] {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new Error(`template keys are empty; expected e.g. "${SPEC_EXAMPLE}"`);
  }
  const keys: Partial<Record<Field, string>> = {};
  const usedKeywords = new Map<string, Field>();
  for (const rawEntry of spec.split(',')) {
    const entry = rawEntry.trim();
    const parts = entry.split(':').map((p) => p.trim());
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(
        `template keys: entry "${entry}" is not field:keyword (e.g. "${SPEC_EXAMPLE}")`,
      );
    }
    const field = parts[0] as string;
    const keyword = parts[1] as string;
    if (!(FIELDS as readonly string[]).includes(field)) {
      throw new Error(`template keys: unknown field "${field}" (expected ${FIELDS.join(', ')})`);
    }
    if (keys[field as Field] !== undefined) {
      throw new Error(`template keys: field "${field}" appears twice`);
    }
    if (!KEYWORD_NAME.test(keyword)) {
      throw new Error(`template keys: "${keyword}" is not a keyword name like thing1 or time3`);
    }
    if (keywordType(keyword) === null) {
      throw new Error(`template keys: keyword "${keyword}" has an unknown type`);
    }
    const other = usedKeywords.get(keyword);
    if (other !== undefined) {
      throw new Error(
        `template keys: keyword "${keyword}" is used by both "${other}" and "${field}"`,
      );
    }
    usedKeywords.set(keyword, field as Field);
    keys[field as Field] = keyword;
  }
  for (const field of REQUIRED_FIELDS) {
    if (keys[field] === undefined) throw new Error(`template keys: field "${field}" is missing`);
  }
  const { title, status, time, note, reason } = keys as Record<Field, string | undefined>;
  return {
    title: title as string,
    status: status as string,
    time: time as string,
    ...(note !== undefined ? { note } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}

/**
 * The send arguments for one finished task. Every keyword the template names gets a value, since
 * WeChat refuses a message with an empty one. Throws when the recipient, task or template is blank.
 */
export function buildNotice(template: NoticeTemplate, input: NoticeInput): SubscribeMessage {
  if (!template.id) throw new Error('buildNotice: template id is empty');
  if (!input.openid) throw new Error('buildNotice: openid is empty');
  if (!input.taskId) throw new Error('buildNotice: taskId is empty');

  const k = template.keys;
  const data: Record<string, { value: string }> = {};
  const put = (keyword: string | undefined, value: string) => {
    if (keyword) data[keyword] = { value: fitKeywordValue(keyword, value) };
  };

  put(k.title, sanitize(input.title ?? '') || DEFAULT_NOTICE_TITLE);
  put(k.status, NOTICE_STATUS[input.kind]);
  put(k.time, formatShanghaiTime(input.finishedAt));
  if (input.kind === 'success') {
    put(k.note, SUCCESS_NOTE);
    put(k.reason, '无');
  } else {
    const reason = sanitize(input.reason ?? '') || DEFAULT_FAILURE_REASON;
    // Without a reason keyword the reason goes in the note, where the user still sees it.
    if (k.reason) {
      put(k.reason, reasonFor(k.reason, reason));
      put(k.note, FAILURE_NOTE);
    } else if (k.note) {
      put(k.note, reasonFor(k.note, reason));
    }
  }

  return {
    touser: input.openid,
    templateId: template.id,
    page: `${NOTICE_PAGE}?taskId=${encodeURIComponent(input.taskId)}`,
    data,
    miniprogramState: input.miniprogramState ?? 'formal',
    lang: 'zh_CN',
  };
}
