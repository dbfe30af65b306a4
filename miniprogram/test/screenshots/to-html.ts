/**
 * A page rendered by miniprogram-simulate (j-component: wx-view, wx-button, … with the WXML
 * attributes kept on each element) turned into plain HTML that Chromium can draw. Class names
 * stay as simulate prefixed them, so the page's own WXSS, compiled the same way, applies as is.
 * WeChat's built-in components become the nearest HTML plus a class the shooter styles.
 */

interface WxElement {
  id?: string;
  _vt?: { attrs?: { name: string; value: unknown }[] };
}

/** The part of a jsdom node this reads (the mini-program's TypeScript has no DOM types). */
export interface DomNode {
  nodeType: number;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}
interface DomElement extends DomNode {
  tagName: string;
  getAttribute(name: string): string | null;
  __wxElement?: WxElement;
}

const esc = (s: unknown): string =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const ICON_COLORS: Record<string, string> = {
  success: '#07c160',
  warn: '#fa5151',
  info: '#10aeff',
  waiting: '#10aeff',
};

/** WeUI's icons, drawn: a filled circle with a glyph (search: a grey magnifier). */
function icon(type: string, size: number): string {
  if (type === 'search') {
    return (
      `<svg width="${size}" height="${size}" viewBox="0 0 24 24"><circle cx="10.5" cy="10.5" r="7" fill="none" stroke="#b2b2b2" stroke-width="2.4"/>` +
      `<path d="M15.8 15.8L21 21" stroke="#b2b2b2" stroke-width="2.4" stroke-linecap="round"/></svg>`
    );
  }
  const color = ICON_COLORS[type] ?? '#10aeff';
  const glyph =
    type === 'success'
      ? '<path d="M7 12.5l3.2 3.2L17.5 8.5" stroke="#fff" stroke-width="2.2" fill="none" stroke-linecap="round" stroke-linejoin="round"/>'
      : type === 'info'
        ? '<rect x="11" y="10" width="2.2" height="8" rx="1.1" fill="#fff"/><circle cx="12.1" cy="6.8" r="1.4" fill="#fff"/>'
        : '<rect x="11" y="5.6" width="2.2" height="8.4" rx="1.1" fill="#fff"/><circle cx="12.1" cy="17.4" r="1.4" fill="#fff"/>';
  return `<svg width="${size}" height="${size}" viewBox="0 0 24 24"><circle cx="12" cy="12" r="12" fill="${color}"/>${glyph}</svg>`;
}

function attrsOf(el: DomElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of el.__wxElement?._vt?.attrs ?? []) out[a.name] = a.value;
  return out;
}

export function toHtml(node: DomNode): string {
  if (node.nodeType === 3) return esc(node.textContent);
  if (node.nodeType !== 1) return '';
  const el = node as DomElement;
  const tag = el.tagName.toLowerCase();
  const a = attrsOf(el);
  const kids = Array.from(el.childNodes).map(toHtml).join('');
  const wxId = el.__wxElement?.id;
  const cls = el.getAttribute('class') ?? '';
  const style = el.getAttribute('style');
  const head = (base: string) =>
    `${wxId ? ` id="${esc(wxId)}"` : ''} class="${esc(`${base} ${cls}`.trim())}"` +
    (style ? ` style="${esc(style)}"` : '');
  switch (tag) {
    case 'main':
      return `<div${head('wx-root')}>${kids}</div>`;
    case 'wx-view':
      return `<div${head('wx-view')}>${kids}</div>`;
    case 'wx-text':
      return `<span${head('wx-text')}>${kids}</span>`;
    case 'wx-button': {
      const c = ['wx-btn'];
      if (a.type === 'primary') c.push('wx-btn--primary');
      if (a.type === 'warn') c.push('wx-btn--warn');
      if (a.size === 'mini') c.push('wx-btn--mini');
      if (a.disabled === true) c.push('wx-btn--disabled');
      const spin = a.loading === true ? '<i class="wx-btn__loading"></i>' : '';
      return `<button${head(c.join(' '))}>${spin}${kids}</button>`;
    }
    case 'wx-textarea':
      return `<textarea${head('wx-textarea')} placeholder="${esc(a.placeholder)}">${esc(a.value)}</textarea>`;
    case 'wx-input':
      return `<input${head('wx-input')} placeholder="${esc(a.placeholder)}" value="${esc(a.value)}">`;
    case 'wx-progress': {
      const pct = Number(a.percent ?? 0);
      const h = Number(a['stroke-width'] ?? a.strokeWidth ?? 6);
      const r = Number(a['border-radius'] ?? a.borderRadius ?? 0);
      const fg = String(a.activeColor ?? a.activecolor ?? '#09bb07');
      const bg = String(a.backgroundColor ?? a.backgroundcolor ?? '#ebebeb');
      return (
        `<div${head('wx-progress')}><div class="wx-progress__bar" style="height:${h}px;border-radius:${r}px;background:${bg}">` +
        `<div class="wx-progress__inner" style="width:${pct}%;background:${fg};border-radius:${r}px"></div></div></div>`
      );
    }
    case 'wx-image':
      return `<img${head('wx-image')} src="${esc(a.src)}" alt="">`;
    case 'wx-icon':
      return `<span${head('wx-icon')}>${icon(String(a.type), Number(a.size ?? 23))}</span>`;
    default:
      // A custom component (status-badge, privacy-popup): its own tree is already inside.
      return `<div${head('wx-custom')} data-component="${esc(tag)}">${kids}</div>`;
  }
}
