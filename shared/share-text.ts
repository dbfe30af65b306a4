/**
 * Finds the video link in a pasted share text and normalizes it.
 *
 * Pure and free of platform APIs: it runs in cloud functions and in the mini-program, whose JS
 * engine has no reliable global `URL`, so URLs are split by hand with a deliberately small grammar.
 * Only hosts and paths we know are accepted; whatever we hand on is rebuilt from the parsed host and
 * path, so a look-alike can never reach the workflow under a supported platform's name.
 */

export type Platform = 'douyin' | 'kuaishou' | 'xiaohongshu' | 'bilibili';

export const PLATFORMS: readonly Platform[] = ['douyin', 'kuaishou', 'xiaohongshu', 'bilibili'];

export const PLATFORM_LABELS: Record<Platform, string> = {
  douyin: '抖音',
  kuaishou: '快手',
  xiaohongshu: '小红书',
  bilibili: '哔哩哔哩',
};

export const MAX_SHARE_TEXT_LENGTH = 2000;

/** The subset of the error catalogue (errors.ts) this parser can answer. */
export type ShareTextErrorCode = 'NO_LINK' | 'UNSUPPORTED_PLATFORM' | 'INVALID_INPUT';

export type ParsedShareText =
  { ok: true; platform: Platform; url: string } | { ok: false; code: ShareTextErrorCode };

interface HostRule {
  platform: Platform;
  host: string;
  /** Also match true subdomains (`*.host`) and the registrable domain itself. */
  subdomains?: boolean;
  path: RegExp;
  /** Query parameters that identify the content (everything else is tracking and is dropped). */
  keep?: Readonly<Record<string, RegExp>>;
}

// Hosts the notes list without a path serve only short links or content: any plain, non-root path.
const SHORT_PATH = /^\/[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*\/?$/;
const DOUYIN_SHARE_PATH = /^\/share\/(?:video|note)\/\d+\/?$/;
const BILIBILI_VIDEO_PATH = /^\/video\/BV[0-9A-Za-z]{10}\/?$/;
// A part number selects which video of a multi-part upload is meant, so it is identity, not tracking.
const BILIBILI_KEEP = { p: /^[1-9]\d{0,3}$/ };
// Xiaohongshu's web note pages refuse to open without the share's access token.
const XHS_KEEP = {
  xsec_token: /^[A-Za-z0-9%_.~=+-]{1,512}$/,
  xsec_source: /^[A-Za-z0-9_-]{1,64}$/,
};

const RULES: readonly HostRule[] = [
  { platform: 'douyin', host: 'v.douyin.com', path: SHORT_PATH },
  // `/note/` is a photo note: accepted here, the workflow reports "no speech" for it later.
  { platform: 'douyin', host: 'www.douyin.com', path: /^\/(?:video|note)\/\d+\/?$/ },
  { platform: 'douyin', host: 'www.iesdouyin.com', path: DOUYIN_SHARE_PATH },
  { platform: 'douyin', host: 'm.douyin.com', path: DOUYIN_SHARE_PATH },
  { platform: 'kuaishou', host: 'v.kuaishou.com', path: SHORT_PATH },
  {
    platform: 'kuaishou',
    host: 'www.kuaishou.com',
    path: /^\/(?:short-video|f)\/[A-Za-z0-9_-]+\/?$/,
  },
  { platform: 'kuaishou', host: 'gifshow.com', subdomains: true, path: SHORT_PATH },
  { platform: 'kuaishou', host: 'chenzhongtech.com', subdomains: true, path: SHORT_PATH },
  { platform: 'xiaohongshu', host: 'xhslink.com', path: SHORT_PATH },
  {
    platform: 'xiaohongshu',
    host: 'www.xiaohongshu.com',
    path: /^\/(?:explore|discovery\/item)\/[0-9A-Za-z]+\/?$/,
    keep: XHS_KEEP,
  },
  { platform: 'bilibili', host: 'b23.tv', path: SHORT_PATH },
  {
    platform: 'bilibili',
    host: 'www.bilibili.com',
    path: BILIBILI_VIDEO_PATH,
    keep: BILIBILI_KEEP,
  },
  { platform: 'bilibili', host: 'm.bilibili.com', path: BILIBILI_VIDEO_PATH, keep: BILIBILI_KEEP },
];

/**
 * Runs of ASCII URL characters (RFC 3986 unreserved + reserved + `%`). ASCII only, so a full-width
 * `，`, `）` or Chinese text glued to a link ends it.
 */
const URL_RUN = /[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;
const URL_ONLY = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const SCHEME_ANYWHERE = /https?:\/\//i;
const SCHEME_AT_START = /^(https?):\/\//i;
// Sentence punctuation and brackets that end up glued to a link in ASCII texts.
const TRAILING_PUNCT = /[.,;:!?'()[\]*]+$/;
// `@` is deliberately not trimmed: `@host/…` reads as (empty) userinfo and stays unsupported.
const LEADING_PUNCT = /^[.,;:!?'()[\]*]+/;
const DNS_NAME = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

interface SplitUrl {
  scheme: 'http' | 'https' | null;
  hasUserinfo: boolean;
  host: string;
  port: string | null;
  path: string;
  query: string;
}

function splitUrl(token: string): SplitUrl {
  const m = SCHEME_AT_START.exec(token);
  const scheme = m ? (m[1]!.toLowerCase() as 'http' | 'https') : null;
  const body = m ? token.slice(m[0].length) : token;
  const authorityEnd = body.search(/[/?#]/);
  const authority = authorityEnd === -1 ? body : body.slice(0, authorityEnd);
  const rest = authorityEnd === -1 ? '' : body.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const hostPort = at === -1 ? authority : authority.slice(at + 1);
  const colon = hostPort.indexOf(':');
  const host = (colon === -1 ? hostPort : hostPort.slice(0, colon)).toLowerCase();
  const port = colon === -1 ? null : hostPort.slice(colon + 1);
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const q = beforeHash.indexOf('?');
  return {
    scheme,
    hasUserinfo: at !== -1,
    host,
    port,
    path: q === -1 ? beforeHash : beforeHash.slice(0, q),
    query: q === -1 ? '' : beforeHash.slice(q + 1),
  };
}

function hostMatches(rule: HostRule, host: string): boolean {
  return host === rule.host || (rule.subdomains === true && host.endsWith('.' + rule.host));
}

function isKnownHost(host: string): boolean {
  return RULES.some((r) => hostMatches(r, host));
}

/** A scheme-less token counts as a link only when it clearly is one, so that `g@B.tE` in a Douyin
 * share password or an e-mail address is not mistaken for an unsupported link. */
function isSchemelessLink(token: string): boolean {
  if (token === '' || SCHEME_AT_START.test(token)) return false;
  const u = splitUrl(token);
  if (!DNS_NAME.test(u.host)) return false;
  const hasPath = u.path.length > 1 || u.query !== '';
  return hasPath || isKnownHost(u.host) || u.host.startsWith('www.');
}

function keptQuery(rule: HostRule, query: string): string {
  const keep = rule.keep;
  if (!keep || query === '') return '';
  const out: string[] = [];
  const seen = new Set<string>();
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    const valid = Object.prototype.hasOwnProperty.call(keep, key) ? keep[key] : undefined;
    if (valid && !seen.has(key) && valid.test(value)) {
      seen.add(key);
      out.push(`${key}=${value}`);
    }
  }
  return out.length > 0 ? `?${out.join('&')}` : '';
}

/** The platform and normalized URL of one candidate token, or null when it is not supported. */
function matchSupported(token: string): { platform: Platform; url: string } | null {
  const u = splitUrl(token);
  if (u.hasUserinfo) return null;
  if (u.port !== null && u.port !== '') {
    const defaultPort = u.scheme === 'http' ? 80 : 443;
    if (!/^\d{1,5}$/.test(u.port) || Number(u.port) !== defaultPort) return null;
  }
  const rule = RULES.find((r) => hostMatches(r, u.host) && r.path.test(u.path));
  if (!rule) return null;
  // Every listed host serves https; the path is kept exactly as given (short codes are case-sensitive).
  return { platform: rule.platform, url: `https://${u.host}${u.path}${keptQuery(rule, u.query)}` };
}

/** The candidate link in one run of URL characters, or null when the run holds none. */
function candidateOf(run: string): string | null {
  let token = run;
  const m = SCHEME_ANYWHERE.exec(token);
  if (m && m.index > 0) {
    // `链接:https://…` or `8.94https://…`: junk glued before the scheme is dropped; but when the
    // prefix is itself a link (`evil.example/r?u=https://v.douyin.com/…`) the scheme is inside it.
    const prefix = token.slice(0, m.index).replace(LEADING_PUNCT, '');
    if (!isSchemelessLink(prefix)) token = token.slice(m.index);
  }
  token = token.replace(TRAILING_PUNCT, '').replace(LEADING_PUNCT, '');
  if (SCHEME_AT_START.test(token)) {
    return splitUrl(token).host !== '' ? token : null;
  }
  return isSchemelessLink(token) ? token : null;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Count a surrogate pair once, like the user sees it.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Invisible characters (Unicode format characters such as U+200B, U+FEFF, bidi marks; and control
 * characters such as NUL) that a copy, an app or a forwarder may leave inside a link. Left in, one
 * ends the link early (`iRN\u200bBho6u` would become `iRN`: another video, and quota spent), so
 * they are removed before parsing. Line breaks and tabs are kept: they separate words.
 */
const INVISIBLE = /(?![\t\n\v\f\r\u0085])[\p{Cc}\p{Cf}]/gu;

export function cleanShareText(text: string): string {
  return text.replace(INVISIBLE, '');
}

export function parseShareText(text: unknown): ParsedShareText {
  if (typeof text !== 'string') return { ok: false, code: 'INVALID_INPUT' };
  return parseClean(cleanShareText(text));
}

function parseClean(text: string): ParsedShareText {
  // Length in characters (code points), the lenient reading, so the server never refuses what a
  // client counting UTF-16 units allowed; the cheap check first bounds the work on huge inputs.
  if (text.length > 2 * MAX_SHARE_TEXT_LENGTH || codePointLength(text) > MAX_SHARE_TEXT_LENGTH) {
    return { ok: false, code: 'INVALID_INPUT' };
  }
  if (text.trim() === '') return { ok: false, code: 'INVALID_INPUT' };

  let sawLink = false;
  for (const run of text.match(URL_RUN) ?? []) {
    const candidate = candidateOf(run);
    if (candidate === null) continue;
    sawLink = true;
    const match = matchSupported(candidate);
    if (match) return { ok: true, ...match };
  }
  return { ok: false, code: sawLink ? 'UNSUPPORTED_PLATFORM' : 'NO_LINK' };
}

/** Re-validates a stored URL: the whole string must be one supported http(s) link. */
export function isSupportedUrl(url: string): Platform | null {
  if (typeof url !== 'string') return null;
  const s = url.trim();
  if (s.length > 2 * MAX_SHARE_TEXT_LENGTH || !URL_ONLY.test(s) || !SCHEME_AT_START.test(s)) {
    return null;
  }
  return matchSupported(s)?.platform ?? null;
}

// ---------------------------------------------------------------------------------------------
// Caption: the video's own words in the share text, for the history list before a result exists.

/** Code points a caption keeps. */
export const MAX_CAPTION_LENGTH = 100;

// Douyin: `…看看【小猫的作品】好可爱 #猫 https://…`; photo notes say `的图文作品`.
const DOUYIN_WORK = /【([^【】]{1,80}?的(?:图文)?作品)】/;
// Bilibili: `【三分钟学会做红烧肉-哔哩哔哩】 https://b23.tv/…`.
// Xiaohongshu (new): `【红烧肉教程 - 小明 | 小红书 - 你的生活指南】 😆 aBc 😆 https://…`.
const BRACKETED = /【([^【】]{1,200})】/;
const LINK = /(?:https?:\/\/)[\x21-\x7e]*/gi;
const BOILERPLATE: readonly RegExp[] = [
  // A leading share number (`7.94 `, `64 `) and Douyin's lead-in `复制打开抖音，看看`.
  /^\s*[\d.]+\s+/,
  /复制打开抖音[，,]?\s*看看/,
  // Xiaohongshu: `小明发布了一篇小红书笔记，快来看吧！` and the `😆 code 😆` share code.
  /\S*发布了一篇小红书笔记[，,]?\s*快来看吧[！!]?/g,
  /😆\s*[A-Za-z0-9]+\s*😆/g,
  // Kuaishou / Xiaohongshu tails: `该作品在快手被播放过1.2万次，复制此消息，打开【快手】直接观看！`.
  /该作品在快手被播放过[^，,]*[，,]?/g,
  /复制(?:本条信息|此消息|此链接|该链接|链接)[\s\S]*$/,
  // Hashtags (`#萌宠`, `# 猫`) say what the video is filed under, not what it is called.
  /#\s*[^\s#]+/g,
];
const EDGE_PUNCT = /^[\s，。！？、,.!?:：;；"'“”‘’·\-|]+|[\s，。！？、,.!?:：;；"'“”‘’·\-|]+$/g;
const HAS_WORD = /\p{L}/u;

function tidyCaption(text: string): string | null {
  const folded = text.replace(/\s+/g, ' ').replace(EDGE_PUNCT, '');
  if (!HAS_WORD.test(folded)) return null;
  const points = Array.from(folded);
  return points.length > MAX_CAPTION_LENGTH
    ? `${points.slice(0, MAX_CAPTION_LENGTH).join('')}…`
    : folded;
}

function withoutBoilerplate(text: string): string {
  let out = text.replace(LINK, ' ');
  for (const re of BOILERPLATE) out = out.replace(re, ' ');
  return out;
}

/** Between the author's work and the post's own words in a Douyin caption. */
const CAPTION_JOINER = ' · ';

/**
 * The title-like words a share text carries besides its link, or null: the name of the video as
 * the user saw it in the share text.
 *
 * Douyin writes `看看【小猫的作品】好可爱 #猫 https://…`: `【小猫的作品】` names the author's work
 * (it is what the share card and the chat show in brackets), `好可爱` is the post's own text. The
 * caption is both, the bracket first: `小猫的作品 · 好可爱`. The bracket alone is the same for every
 * video of one author (five rows of 小猫的作品 in a history tell nothing apart); the post's text
 * alone drops the name the user recognises and is often a fragment or only hashtags. Bracket first
 * means a notice cut at 20 characters still names the work; the post's words fill what is left.
 * Either part alone when the other is missing.
 *
 * Bilibili and Xiaohongshu: the `【title】`; Kuaishou and Xiaohongshu without one: the text left
 * once the link and the app's boilerplate are gone.
 */
export function captionOf(shareText: string, platform: Platform): string | null {
  const text = cleanShareText(shareText).slice(0, 2 * MAX_SHARE_TEXT_LENGTH);
  if (platform === 'douyin') {
    const m = DOUYIN_WORK.exec(text);
    if (!m) return tidyCaption(withoutBoilerplate(text));
    // The description sits between the bracket and the link; after the link come the share
    // password and date (`g@B.tE 03/12 :7pm`).
    const rest = text.slice(m.index + m[0].length);
    const link = rest.search(/https?:\/\//i);
    const after = link === -1 ? rest : rest.slice(0, link);
    const work = tidyCaption(m[1] ?? '');
    const description = tidyCaption(withoutBoilerplate(after));
    if (work && description) return tidyCaption(`${work}${CAPTION_JOINER}${description}`);
    return work ?? description;
  }
  const bracket = BRACKETED.exec(text);
  if (platform === 'bilibili' && bracket?.[1]) {
    return tidyCaption(bracket[1].replace(/[-_]\s*哔哩哔哩\s*$/, ''));
  }
  if (platform === 'xiaohongshu' && bracket?.[1] && !/^小红书$/.test(bracket[1].trim())) {
    // `title - author | 小红书 - 你的生活指南`: the title is before the last ` - author`.
    const title = bracket[1].replace(/\s*\|\s*小红书[\s\S]*$/, '').replace(/\s+-\s+[^-]*$/, '');
    return tidyCaption(title);
  }
  return tidyCaption(withoutBoilerplate(text).replace(BRACKETED, ' '));
}

/**
 * The video's name before (or without) a result: its caption, else the platform's video (抖音视频).
 * The card, the history and the failure notice all name a task by it.
 */
export function fallbackTitle(platform: Platform, caption: string | null | undefined): string {
  return caption?.trim() || `${PLATFORM_LABELS[platform]}视频`;
}
