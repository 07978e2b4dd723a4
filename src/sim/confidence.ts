/**
 * How sure a figure from n simulated runs is: 95% intervals.
 * - a rate (k of n): the Wilson score interval, which stays inside 0..1 and
 *   behaves at k = 0 and small n, where the normal approximation does not;
 * - a nearest-rank percentile: the distribution-free order-statistic interval
 *   [x(l), x(u)] with l and u from the binomial distribution of how many runs
 *   fall below the true percentile; a bound that needs more runs than there
 *   are is null (unbounded: e.g. the upper bound of a p99 from 50 runs);
 * - a mean: the normal approximation, mean +- 1.96 standard errors.
 */

export interface Interval {
  low: number | null;
  high: number | null;
}

const Z95 = 1.959963984540054;
const ALPHA = 0.05;

export function wilson(successes: number, trials: number): Interval {
  if (trials === 0) return { low: null, high: null };
  const p = successes / trials;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
  const half = (Z95 * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
  // At k = 0 (k = n) the bound is exactly 0 (1); the formula leaves rounding dust.
  return { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === trials ? 1 : Math.min(1, centre + half) };
}

/** `sorted` ascending; `percent` in 0..100. */
export function percentileInterval(sorted: ArrayLike<number>, percent: number): Interval {
  const n = sorted.length;
  if (n === 0) return { low: null, high: null };
  const q = percent / 100;
  // cdf[k] = P(B <= k) for B ~ Binomial(n, q), summed in log space for large n.
  const cdf = binomialCdf(n, q);
  // Lower rank l (1-based): the largest with P(B <= l - 1) <= alpha/2; upper rank u: the smallest with P(B <= u - 1) >= 1 - alpha/2.
  let low: number | null = null;
  for (let l = n; l >= 1; l -= 1) {
    if (cdf[l - 1]! <= ALPHA / 2) {
      low = sorted[l - 1]!;
      break;
    }
  }
  let high: number | null = null;
  for (let u = 1; u <= n; u += 1) {
    if (cdf[u - 1]! >= 1 - ALPHA / 2) {
      high = sorted[u - 1]!;
      break;
    }
  }
  return { low, high };
}

export function meanInterval(values: readonly number[]): Interval {
  const n = values.length;
  if (n === 0) return { low: null, high: null };
  let sum = 0;
  for (const value of values) sum += value;
  const mean = sum / n;
  if (n === 1) return { low: null, high: null };
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  const half = Z95 * Math.sqrt(squares / (n - 1) / n);
  return { low: mean - half, high: mean + half };
}

function binomialCdf(n: number, q: number): Float64Array {
  const cdf = new Float64Array(n + 1);
  if (q <= 0) return cdf.fill(1);
  if (q >= 1) {
    cdf[n] = 1;
    return cdf;
  }
  const logQ = Math.log(q);
  const logNotQ = Math.log(1 - q);
  let logChoose = 0;
  let total = 0;
  for (let k = 0; k <= n; k += 1) {
    if (k > 0) logChoose += Math.log(n - k + 1) - Math.log(k);
    total += Math.exp(logChoose + k * logQ + (n - k) * logNotQ);
    cdf[k] = Math.min(1, total);
  }
  return cdf;
}
