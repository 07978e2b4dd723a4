/**
 * The canary group size (contract §5): `canary_count` when > 0, else
 * `ceil(targeted * canary_percent / 100)`, clamped to 1..targeted
 * (0 only when nothing is targeted).
 */
export function canarySize(targeted: number, canaryCount: number, canaryPercent: number): number {
  if (targeted <= 0) return 0;
  const wanted = canaryCount > 0 ? canaryCount : Math.ceil((targeted * canaryPercent) / 100);
  return Math.min(targeted, Math.max(1, wanted));
}
