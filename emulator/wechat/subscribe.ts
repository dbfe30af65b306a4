/**
 * Subscription messages (订阅消息) as WeChat checks them: known template, openid, per-keyword value rules,
 * one-time grants. Successful sends are recorded in the outbox. Grants and outbox live in `<dir>`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isOpenid } from '../openid';
import { isPlainObject } from '../database/ejson';

export interface TemplateSpec {
  id: string;
  /** Keyword names as the template defines them, e.g. `thing1`, `time2`, `phrase3`. */
  keywords: string[];
}

export interface SentMessage {
  touser: string;
  templateId: string;
  page?: string;
  data: Record<string, { value: string }>;
  miniprogramState?: string;
  lang?: string;
  sentAt: string;
}

export interface WxReply {
  errcode: number;
  errmsg: string;
  msgid?: number;
}

function rid(): string {
  const h = randomBytes(12).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 24)}`;
}

function fail(errcode: number, errmsg: string): WxReply {
  return { errcode, errmsg: `${errmsg} rid: ${rid()}` };
}

const chars = (s: string): number => Array.from(s).length;
const CHINESE = /^[\u3400-\u9fff]+$/u;
// WeChat documents `2019年10月1日` (README.md cites it); `2019-10-01` and `2026/12/6` are what WeChat
// DevTools' own openapi template and `toLocaleString('zh-CN')` produce, and what projects send.
const DATE_PART =
  '(?:\\d{4}年\\d{1,2}月\\d{1,2}日|\\d{4}-\\d{1,2}-\\d{1,2}|\\d{4}/\\d{1,2}/\\d{1,2})';
const TIME_PART = '\\d{1,2}:\\d{2}(?::\\d{2})?';
const POINT = `(?:${DATE_PART}(?:\\s?${TIME_PART})?|${TIME_PART})`;
const TIME_VALUE = new RegExp(`^${POINT}(?:\\s?~\\s?${POINT})?$`, 'u');

/** The keyword's type is its name without the trailing number: `character_string12` → `character_string`. */
export function keywordType(keyword: string): string {
  return keyword.replace(/\d+$/, '');
}

/** WeChat's documented value rules per keyword type. Unknown types get the `thing` length limit. */
export function isValidKeywordValue(keyword: string, value: string): boolean {
  if (value === '' || /[\r\n]/.test(value)) return false;
  const n = chars(value);
  switch (keywordType(keyword)) {
    case 'thing':
      return n <= 20;
    case 'phrase':
      return n <= 5 && CHINESE.test(value);
    case 'character_string':
      return n <= 32 && /^[\x21-\x7e]+$/.test(value);
    case 'number':
      return n <= 32 && /^[+-]?\d+(\.\d+)?$/.test(value);
    case 'letter':
      return n <= 32 && /^[A-Za-z]+$/.test(value);
    case 'symbol':
      return n <= 5 && /^[^\p{L}\p{N}\s]+$/u.test(value);
    case 'time':
    case 'date':
      return TIME_VALUE.test(value);
    case 'amount':
      return /^[¥$€£]?\d{1,10}(\.\d{1,2})?元?$/u.test(value);
    case 'name':
      return /^[A-Za-z ]+$/.test(value) ? n <= 20 : n <= 10;
    case 'phone_number':
      return n <= 17 && /^[\d+\-() ]+$/.test(value);
    case 'car_number':
      return /^[\u3400-\u9fffA-Z][A-Z0-9\u3400-\u9fff]{1,7}$/u.test(value);
    default:
      return n <= 20;
  }
}

export class SubscriptionService {
  private readonly templates = new Map<string, TemplateSpec>();
  private grants: Record<string, Record<string, number>> = {};
  private sent: SentMessage[] = [];
  private readonly grantsFile: string;
  /** Every grant count change since the snapshot, one absolute value per line, so a send appends a line. */
  private readonly grantsJournal: string;
  private readonly outboxFile: string;
  private msgid = Date.now() % 1e9;

  constructor(
    dir: string,
    templates: TemplateSpec[],
    private readonly log: (line: string) => void,
  ) {
    for (const t of templates) this.templates.set(t.id, t);
    fs.mkdirSync(dir, { recursive: true });
    this.grantsFile = path.join(dir, 'grants.json');
    this.outboxFile = path.join(dir, 'outbox.jsonl');
    this.grantsJournal = path.join(dir, 'grants.jsonl');
    try {
      const g = JSON.parse(fs.readFileSync(this.grantsFile, 'utf8')) as unknown;
      if (isPlainObject(g)) this.grants = g as Record<string, Record<string, number>>;
    } catch {
      this.grants = {};
    }
    this.replayGrantsJournal();
    // Compact: the snapshot first, then the journal it now contains (a crash in between replays values
    // the snapshot already holds, which changes nothing).
    const tmp = `${this.grantsFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.grants));
    fs.renameSync(tmp, this.grantsFile);
    fs.writeFileSync(this.grantsJournal, '');
    try {
      for (const line of fs.readFileSync(this.outboxFile, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          this.sent.push(JSON.parse(line) as SentMessage);
        } catch {
          // torn tail after a crash
        }
      }
    } catch {
      this.sent = [];
    }
  }

  templateIds(): string[] {
    return [...this.templates.keys()];
  }

  private replayGrantsJournal(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.grantsJournal, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const { o, t, n } = JSON.parse(line) as { o: string; t: string; n: number };
        if (typeof o === 'string' && typeof t === 'string' && typeof n === 'number') {
          (this.grants[o] ??= {})[t] = n;
        }
      } catch {
        // torn tail after a crash
      }
    }
  }

  /** Records one openid's new count for one template. */
  private saveGrant(openid: string, templateId: string, count: number): void {
    fs.appendFileSync(
      this.grantsJournal,
      `${JSON.stringify({ o: openid, t: templateId, n: count })}\n`,
    );
  }

  /** One grant per listed template (all known templates when none are listed); answers the openid's counts. */
  grant(openid: string, templateIds?: string[]): Record<string, number> {
    const ids = templateIds && templateIds.length ? templateIds : this.templateIds();
    const unknown = ids.filter((id) => !this.templates.has(id));
    if (unknown.length) throw new Error(`unknown template id: ${unknown.join(', ')}`);
    const mine = (this.grants[openid] ??= {});
    for (const id of ids) {
      mine[id] = (mine[id] ?? 0) + 1;
      this.saveGrant(openid, id, mine[id]);
    }
    return { ...mine };
  }

  grantsAll(): Record<string, Record<string, number>> {
    return structuredClone(this.grants);
  }

  templateSpecs(): TemplateSpec[] {
    return [...this.templates.values()].map((t) => ({ id: t.id, keywords: [...t.keywords] }));
  }

  grantsOf(openid: string): Record<string, number> {
    return { ...(this.grants[openid] ?? {}) };
  }

  outbox(): SentMessage[] {
    return this.sent.map((m) => ({ ...m }));
  }

  /** `subscribeMessage.send` with the parameters as WeChat receives them (snake_case keys). */
  send(params: Record<string, unknown>): WxReply {
    const touser = params.touser;
    const templateId = params.template_id;
    if (!isOpenid(touser)) {
      return fail(40003, 'invalid openid');
    }
    const template = typeof templateId === 'string' ? this.templates.get(templateId) : undefined;
    if (!template) return fail(40037, 'invalid template_id');
    const state = params.miniprogram_state;
    if (state !== undefined && !['developer', 'trial', 'formal'].includes(String(state))) {
      return fail(47003, 'argument invalid! miniprogram_state invalid');
    }
    const lang = params.lang;
    if (lang !== undefined && !['zh_CN', 'en_US', 'zh_HK', 'zh_TW'].includes(String(lang))) {
      return fail(47003, 'argument invalid! lang invalid');
    }
    const data = params.data;
    if (!isPlainObject(data)) return fail(47003, 'argument invalid! data invalid');
    const clean: Record<string, { value: string }> = {};
    for (const keyword of Object.keys(data)) {
      if (!template.keywords.includes(keyword))
        return fail(47003, `argument invalid! data.${keyword}.value invalid`);
    }
    for (const keyword of template.keywords) {
      const entry = data[keyword];
      const raw = isPlainObject(entry) ? entry.value : undefined;
      const value = typeof raw === 'number' ? String(raw) : raw;
      if (typeof value !== 'string' || !isValidKeywordValue(keyword, value)) {
        return fail(47003, `argument invalid! data.${keyword}.value invalid`);
      }
      clean[keyword] = { value };
    }
    const mine = this.grants[touser];
    const left = mine?.[template.id] ?? 0;
    if (!mine || left < 1) return fail(43101, 'user refuse to accept the msg');
    mine[template.id] = left - 1;
    this.saveGrant(touser, template.id, left - 1);
    const msg: SentMessage = {
      touser,
      templateId: template.id,
      ...(typeof params.page === 'string' ? { page: params.page } : {}),
      data: clean,
      ...(state !== undefined ? { miniprogramState: String(state) } : {}),
      ...(lang !== undefined ? { lang: String(lang) } : {}),
      sentAt: new Date().toISOString(),
    };
    this.sent.push(msg);
    fs.appendFileSync(this.outboxFile, `${JSON.stringify(msg)}\n`);
    this.log(`subscribeMessage.send ${template.id} -> ${touser}`);
    return { errcode: 0, errmsg: 'ok', msgid: ++this.msgid };
  }
}
