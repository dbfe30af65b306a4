/** Percentiles (nearest rank) and small number helpers for the benchmark. */

export interface Pcts {
  p50: number;
  p99: number;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function pcts(values: readonly number[]): Pcts {
  return { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
