import type { HealthReport } from '../types.js';

/**
 * Contract §4: a health report is passing when `healthy` is true and
 * `error_rate`, when given, is at most `max_error_rate`.
 */
export function isPassing(report: HealthReport, maxErrorRate: number): boolean {
  return report.healthy && (report.error_rate === undefined || report.error_rate <= maxErrorRate);
}
