/**
 * The conditions of a compare-and-set, written once: a transition plan, a notice plan and an
 * admission carry them, the database adapter translates them into a query
 * (`cloudfunctions/_adapters/database.ts`), and `holds` reads them against a document in memory
 * (the ledger's own decisions, and the tests of every plan). A few operators only, with the
 * database's meaning: a dotted path reaches into objects, a number segment indexes an array, and a
 * name segment on an array looks at every element (`active.task` is "some slot's task").
 */

export type Scalar = string | number | boolean | null | Date;

export type Condition =
  /** equal (null also matches a missing field, as the database does) */
  | { field: string; is: Scalar }
  | { field: string; in: readonly Scalar[] }
  /** no value at the path is one of these */
  | { field: string; notIn: readonly Scalar[] }
  /** strictly less than */
  | { field: string; below: number | Date }
  | { field: string; exists: boolean }
  /** at least one of the groups holds (each group: all of its conditions) */
  | { anyOf: readonly (readonly Condition[])[] };

/** Every value at `path` in `doc` (several when the path crosses an array of objects). */
function valuesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const segment of path.split('.')) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        if (/^\d+$/.test(segment)) {
          const i = Number(segment);
          if (i < v.length) next.push(v[i]);
        } else {
          for (const el of v) {
            if (isRecord(el) && segment in el) next.push(el[segment]);
          }
        }
      } else if (isRecord(v) && segment in v) {
        next.push(v[segment]);
      }
    }
    current = next;
  }
  return current;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !(v instanceof Date);
}

function same(a: unknown, b: Scalar): boolean {
  if (a instanceof Date || b instanceof Date) {
    const x = a instanceof Date ? a.getTime() : a;
    const y = b instanceof Date ? b.getTime() : b;
    return x === y;
  }
  return a === b;
}

function below(a: unknown, bound: number | Date): boolean {
  const x = a instanceof Date ? a.getTime() : a;
  const y = bound instanceof Date ? bound.getTime() : bound;
  return typeof x === 'number' && x < y;
}

function holdsOne(doc: unknown, c: Condition): boolean {
  if ('anyOf' in c) return c.anyOf.some((group) => holds(doc, group));
  const values = valuesAt(doc, c.field);
  // A missing field reads as null for equality, as in the database.
  const seen = values.length > 0 ? values : [null];
  if ('is' in c) return seen.some((v) => same(v ?? null, c.is));
  if ('in' in c) return seen.some((v) => c.in.some((x) => same(v ?? null, x)));
  if ('notIn' in c) return !seen.some((v) => c.notIn.some((x) => same(v ?? null, x)));
  if ('below' in c) return values.some((v) => below(v, c.below));
  return values.length > 0 === c.exists;
}

/** Whether every condition holds for `doc`: the same test the database makes. */
export function holds(doc: unknown, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => holdsOne(doc, c));
}
