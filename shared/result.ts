/**
 * A run's result (title, transcript, cover, video link): its one schema and the bounds on what a
 * task stores and a user is shown. A callback's output and a run-history output both pass through
 * `boundResult` before anything keeps them.
 *
 * Bounds (code points, not UTF-16 units):
 * - title 1000: no platform's title or description is longer (Bilibili 80, Xiaohongshu 20,
 *   Douyin and Kuaishou descriptions about 1000); longer is cut with `…`, it is still the video.
 * - content 100 000: we refuse videos over 30 minutes (TOO_LONG), and the fastest speech is
 *   about 400 characters a minute, so a real transcript stays under 15 000. At 100 000 code
 *   points of at most 4 UTF-8 bytes, a `get` answer stays under 420 KB, well inside
 *   callFunction's answer limit, while the 1 MiB callback could carry 340 000. Longer content is
 *   a workflow fault, yet the user has spent quota on it: it is kept up to the bound and marked
 *   as cut (CONTENT_CUT_MARK) rather than refused.
 * - cover and video link: http(s) only, at most 2048 characters, and only on a public host (a DNS
 *   name under a real top-level domain, or a public IPv4/IPv6 address): a link to `localhost`,
 *   `127.0.0.1`, `0x7f000001`, `[::1]`, `169.254.169.254` or a private network is dropped to '',
 *   which the page shows as "no cover / no link". The page hands these links to the phone's
 *   downloader and the user's clipboard, so nothing may point them at the phone's own network.
 * Control characters and bidi controls (U+202E and its kin, which can make `txt.exe` read as
 * `exe.txt`) are removed from both texts; line breaks and tabs stay in the content.
 */
import * as z from './zod';

/**
 * What the result's text is: `transcript`, the video's speech as text (every result before photo
 * notes were read); `note`, a photo note's own words (its title and body: there is no speech).
 */
export const RESULT_KINDS = ['transcript', 'note'] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];

export interface TaskResult {
  title: string;
  content: string;
  cover: string;
  video_url: string;
  /**
   * `note` when the content is a photo note's own text; absent for a transcript (so every
   * result stored before notes, and every transcript since, reads the same).
   */
  kind?: 'note';
}

/** As stored on a task: every field present (bounded before it was written); `kind` on notes only. */
export const taskResultSchema = z.object({
  title: z.string(),
  content: z.string(),
  cover: z.string(),
  video_url: z.string(),
  kind: z.optional(z.literal('note')),
});

/** A result's kind: a note says so, anything else is a transcript. */
export function resultKind(result: { kind?: unknown } | null | undefined): ResultKind {
  return result?.kind === 'note' ? 'note' : 'transcript';
}

export const MAX_TITLE_LENGTH = 1000;
export const MAX_CONTENT_LENGTH = 100_000;
export const MAX_MEDIA_URL_LENGTH = 2048;
export const CONTENT_CUT_MARK = '\n……（文案过长，超出部分未保存）';

/** Bidi embedding, override and isolate controls, and the implicit marks. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const TITLE_CONTROLS = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const CONTENT_CONTROLS = /(?![\t\n\r])[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Text a user is shown or sent: without bidi controls. */
export function withoutBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '');
}

/** The first `max` code points of `s`, or null when it has no more than that. */
function cutAt(s: string, max: number): string | null {
  // UTF-16 units are never fewer than code points: short strings need no count.
  if (s.length <= max) return null;
  let units = 0;
  for (let n = 0; n < max && units < s.length; n++) {
    const c = s.charCodeAt(units);
    units += c >= 0xd800 && c <= 0xdbff && units + 1 < s.length ? 2 : 1;
  }
  return units < s.length ? s.slice(0, units) : null;
}

// ---------------------------------------------------------------------------------------------
// Media links: http(s) on a public host

// scheme://host[:port] then an optional path, query or fragment; no userinfo, no backslash.
const MEDIA_URL = /^https?:\/\/([^\s/?#@\\]+)(?:[/?#][^\s]*)?$/i;
const URL_UNSAFE = /[\p{Cc}\s"<>\\^`{|}]/u;
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** Names that never leave the machine or the local network (RFC 6761, 6762, 8375, common use). */
const LOCAL_SUFFIXES = [
  'localhost',
  'local',
  'internal',
  'intranet',
  'lan',
  'home',
  'corp',
  'arpa',
];

function octets(host: string): number[] | null {
  // Dotted-quad decimal only: `0x7f000001`, `2130706433`, `127.1` and `0177.0.0.1` are the same
  // loopback to some resolvers and nothing a platform's CDN ever hands out.
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const parts = m.slice(1).map((p) => (p.length > 1 && p.startsWith('0') ? NaN : Number(p)));
  return parts.every((n) => n >= 0 && n <= 255) ? parts : [];
}

function isPublicIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this, private, loopback, multicast+
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 169 && b === 254) return false; // link-local, cloud metadata
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** Global unicast (2000::/3) only: loopback, link-local, unique-local, mapped IPv4 are not. */
function isPublicIpv6(inner: string): boolean {
  if (!/^[0-9a-f:.]+$/i.test(inner) || !inner.includes(':')) return false;
  const first = inner.split(':')[0] ?? '';
  if (first === '') return false; // `::1`, `::ffff:…`
  const n = parseInt(first, 16);
  return first.length <= 4 && n >= 0x2000 && n <= 0x3fff && !/^2001:0?db8:/i.test(inner);
}

/** Whether `hostport` (as written in a URL, port allowed) names a public host. */
export function isPublicHost(hostport: string): boolean {
  if (hostport.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(hostport);
    return m?.[1] !== undefined && isPublicIpv6(m[1]);
  }
  const m = /^([^:]+)(?::\d{1,5})?$/.exec(hostport);
  const host = m?.[1]?.toLowerCase().replace(/\.$/, '');
  if (!host) return false;
  const ip = octets(host);
  if (ip) return ip.length === 4 && isPublicIpv4(ip);
  // A name: ASCII labels only (an internationalized name arrives as punycode), a dot, and a
  // top-level label of letters (a number there is an address in disguise).
  const labels = host.split('.');
  const tld = labels[labels.length - 1] ?? '';
  if (labels.length < 2 || !labels.every((l) => DNS_LABEL.test(l))) return false;
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld)) return false;
  return !LOCAL_SUFFIXES.includes(tld);
}

/** An http(s) URL on a public host for an <image>, a download or a copied link; '' otherwise. */
export function mediaUrlOrEmpty(url: string): string {
  const s = url.trim();
  if (s.length > MAX_MEDIA_URL_LENGTH || URL_UNSAFE.test(s)) return '';
  const host = MEDIA_URL.exec(s)?.[1];
  return host !== undefined && isPublicHost(host) ? s : '';
}

// ---------------------------------------------------------------------------------------------

/**
 * A run's output within the bounds above: what a task stores and a user is shown. Its kind is
 * kept only when it is a note (`transcript` is the default, spelled by absence).
 */
export function boundResult(
  output: Omit<TaskResult, 'kind'> & { kind?: ResultKind | undefined },
): TaskResult {
  const title = output.title.replace(TITLE_CONTROLS, '');
  const content = output.content.replace(CONTENT_CONTROLS, '');
  const shortTitle = cutAt(title, MAX_TITLE_LENGTH);
  const shortContent = cutAt(content, MAX_CONTENT_LENGTH);
  return {
    title: shortTitle === null ? title : `${shortTitle}…`,
    content: shortContent === null ? content : `${shortContent}${CONTENT_CUT_MARK}`,
    cover: mediaUrlOrEmpty(output.cover),
    video_url: mediaUrlOrEmpty(output.video_url),
    ...(output.kind === 'note' ? { kind: 'note' as const } : {}),
  };
}

/** The output fields `boundResult` changed (for a log line; never the values). */
export function adjustedFields(raw: unknown, bounded: TaskResult): string[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const r = raw as Record<string, unknown>;
  return (Object.keys(bounded) as (keyof TaskResult)[]).filter(
    (k) => typeof r[k] === 'string' && r[k] !== bounded[k],
  );
}
