/**
 * Loads a page into miniprogram-simulate and drives it like WeChat would: lifecycles, taps,
 * input; reads back data and rendered text.
 */
import * as simulate from 'miniprogram-simulate';
import type { ConfigPatch } from '../config';
import { miniprogramRoot } from './node-bridge';

type Sim = ReturnType<typeof simulate.render>;

async function microtasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

export const TEMPLATES = { success: 'tmpl-success', failure: 'tmpl-failure' };

export class PageDriver<D> {
  constructor(readonly comp: Sim) {}

  get data(): D {
    return this.comp.data as D;
  }

  /** Calls a page method the way WeChat does (onLoad, onShow, onPullDownRefresh, ...). */
  call(method: string, ...args: unknown[]): unknown {
    const fn = (this.comp.instance as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new Error(`no method ${method}`);
    return (fn as (...a: unknown[]) => unknown).apply(this.comp.instance, args);
  }

  find(selector: string): Sim | undefined {
    return this.comp.querySelector(selector);
  }

  exists(selector: string): boolean {
    return this.find(selector) !== undefined;
  }

  text(selector: string): string {
    const el = this.find(selector);
    if (!el) throw new Error(`nothing matches ${selector}`);
    return String(el.dom?.textContent ?? '')
      .replace(/\s+/g, ' ')
      .trim();
  }

  all(selector: string): Sim[] {
    return this.comp.querySelectorAll(selector);
  }

  /** Taps like a finger: j-component delivers the event a microtask later; timers stay put. */
  async tap(selector: string): Promise<void> {
    const el = this.find(selector);
    if (!el) throw new Error(`nothing to tap at ${selector}`);
    el.dispatchEvent('tap');
    await microtasks();
  }

  async input(selector: string, value: string): Promise<void> {
    const el = this.find(selector);
    if (!el) throw new Error(`no input at ${selector}`);
    el.dispatchEvent('input', { detail: { value } });
    await microtasks();
  }
}

/**
 * Loads `pages/<name>/<name>` with a fresh module registry (a page's `Component()` only runs on
 * first require) and the given config; returns the driver and the page's own config module.
 */
export function loadPage<D>(
  name: 'index' | 'history' | 'shared',
  patch: ConfigPatch = {},
): PageDriver<D> {
  jest.resetModules();
  const config = jest.requireActual<typeof import('../config')>(`${miniprogramRoot}/config`);
  config.setConfig({ cloud: { env: 'test-env', templates: TEMPLATES }, ...patch });
  const id = simulate.load(`${miniprogramRoot}/pages/${name}/${name}`, {
    compiler: 'simulate',
    rootPath: miniprogramRoot,
  });
  const comp = simulate.render(id) as simulate.RootComponent<
    Record<string, unknown>,
    Record<string, never>,
    Record<string, never>
  >;
  const doc = (globalThis as unknown as { document: { createElement(tag: string): unknown } })
    .document;
  comp.attach(doc.createElement('parent-wrapper'));
  return new PageDriver<D>(comp);
}
