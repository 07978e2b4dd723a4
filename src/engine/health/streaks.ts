/**
 * The health tracker (contract §4), a pure decision per health report of a
 * node still updating. A passing streak is held as its timer: the node is
 * stable exactly `min_healthy_time` after the streak's first report, so the
 * streak timer's due time says when it began; nothing else is stored.
 *
 * - passing, no streak: start one (`arm` a timer for now + min_healthy_time),
 *   or with min_healthy_time 0 the node is `stable` at once;
 * - passing within a streak: nothing to do (the common case, O(1));
 * - not passing: any streak ends (`broken`: disarm its timer).
 */
export type StreakVerdict = 'none' | 'arm' | 'stable' | 'broken';

export function trackStreak(streaking: boolean, passing: boolean, minHealthyMs: number): StreakVerdict {
  if (passing) {
    if (streaking) return 'none';
    return minHealthyMs === 0 ? 'stable' : 'arm';
  }
  return streaking ? 'broken' : 'none';
}
