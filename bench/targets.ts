/** A target the bench checks on its own figures: the measure, its value, and whether it was met. */
export interface TargetResult {
  measure: string;
  value: number;
  unit: string;
  op: '<' | '≤' | '≥';
  limit: number;
  met: boolean;
}

export function target(
  measure: string,
  value: number,
  unit: string,
  op: TargetResult['op'],
  limit: number,
): TargetResult {
  const met = op === '<' ? value < limit : op === '≤' ? value <= limit : value >= limit;
  return { measure, value, unit, op, limit, met };
}
