/** Nearest-rank percentile of ascending `sorted` values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface Latency {
  samples: number;
  mean_us: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

/** Latency figures in microseconds from nanosecond samples. */
export function latencyOf(samplesNs: Float64Array): Latency {
  const sorted = samplesNs.slice().sort();
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  return {
    samples: sorted.length,
    mean_us: us(sorted.reduce((sum, ns) => sum + ns, 0) / sorted.length),
    p50_us: us(percentile(sorted, 50)),
    p99_us: us(percentile(sorted, 99)),
    p999_us: us(percentile(sorted, 99.9)),
    max_us: us(sorted[sorted.length - 1] ?? NaN),
  };
}
