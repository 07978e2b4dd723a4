/** The strategies' rules (contract §5): the canary group's size and the rolling window's room. */

/**
 * The canary group size: `canary_count` when > 0, else
 * `ceil(targeted * canary_percent / 100)`, clamped to 1..targeted
 * (0 only when nothing is targeted).
 */
export function canarySize(targeted: number, canaryCount: number, canaryPercent: number): number {
  if (targeted <= 0) return 0;
  const wanted = canaryCount > 0 ? canaryCount : Math.ceil((targeted * canaryPercent) / 100);
  return Math.min(targeted, Math.max(1, wanted));
}

/**
 * The rolling window: at most `windowSize` nodes updating at once; 0 means
 * no bound. Returns how many more nodes may start now.
 */
export function windowCapacity(windowSize: number, updating: number): number {
  if (windowSize === 0) return Infinity;
  return Math.max(0, windowSize - updating);
}
