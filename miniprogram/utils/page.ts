/**
 * Pages are written with `Component()` (what WeChat recommends for TypeScript, and what
 * miniprogram-simulate can load). Each page keeps its logic in a plain class that owns its
 * non-render state; the component shell only forwards lifecycles and events to it.
 */

/** The part of a page instance a controller uses: its data and `setData`. */
export interface View<D> {
  readonly data: D;
  setData(patch: Partial<D>, callback?: () => void): void;
}

/** One controller per page instance, made on first use (lifecycles may arrive in any order). */
export function controllerFor<C>(registry: WeakMap<object, C>, page: object, make: () => C): C {
  let c = registry.get(page);
  if (!c) {
    c = make();
    registry.set(page, c);
  }
  return c;
}

/** Reads `data-*` of the tapped element. */
export function datasetOf(e: {
  currentTarget?: { dataset?: Record<string, unknown> };
}): Record<string, unknown> {
  return e.currentTarget?.dataset ?? {};
}
