/**
 * The rolling window (contract §5): at most `windowSize` nodes updating at once;
 * 0 means no bound. Returns how many more nodes may start now.
 */
export function windowCapacity(windowSize: number, updating: number): number {
  if (windowSize === 0) return Infinity;
  return Math.max(0, windowSize - updating);
}
