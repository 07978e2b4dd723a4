/**
 * Go durations (`time.ParseDuration` and `Duration.String()`), reproduced
 * exactly so that a JobSpec means here what it means to the Go orchestrator.
 * A duration is a signed 64-bit count of nanoseconds, held as a bigint.
 * Go works on unsigned 64-bit integers with an overflow bound of 2^63; the
 * arithmetic below keeps the same bounds and the same wrap-around.
 */

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

const NANOSECOND = 1n;
const MICROSECOND = 1000n * NANOSECOND;
const MILLISECOND = 1000n * MICROSECOND;
const SECOND = 1000n * MILLISECOND;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', NANOSECOND],
  ['us', MICROSECOND],
  ['\u00b5s', MICROSECOND], // micro sign
  ['\u03bcs', MICROSECOND], // Greek small letter mu
  ['ms', MILLISECOND],
  ['s', SECOND],
  ['m', MINUTE],
  ['h', HOUR],
]);

const TWO_POW_63 = 1n << 63n;
const asUint64 = (n: bigint): bigint => BigInt.asUintN(64, n);

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

function invalid(text: string): DurationError {
  return new DurationError(`invalid duration ${JSON.stringify(text)}`);
}

/** Parses a Go duration ("300ms", "-1.5h", "2h45m") into nanoseconds; throws DurationError. */
export function parseDuration(text: string): bigint {
  let i = 0;
  let negative = false;
  if (text[0] === '-' || text[0] === '+') {
    negative = text[0] === '-';
    i = 1;
  }
  // Go's special case: a bare "0" (signed or not) needs no unit.
  if (text.slice(i) === '0') return 0n;
  if (i === text.length) throw invalid(text);

  let total = 0n;
  while (i < text.length) {
    if (!(text[i] === '.' || isDigit(text[i]))) throw invalid(text);

    // Integer part, [0-9]*: an overflow past 2^63 is an error.
    const intStart = i;
    let whole = 0n;
    for (; isDigit(text[i]); i++) {
      if (whole > TWO_POW_63 / 10n) throw invalid(text);
      whole = whole * 10n + BigInt(text.charCodeAt(i) - 48);
      if (whole > TWO_POW_63) throw invalid(text);
    }
    const hasWhole = i > intStart;

    // Fraction part, (\.[0-9]*)?: digits past uint64 precision are dropped, not an error.
    let fraction = 0n;
    let scale = 1;
    let hasFraction = false;
    if (text[i] === '.') {
      i++;
      const fracStart = i;
      let precisionLost = false;
      for (; isDigit(text[i]); i++) {
        if (precisionLost) continue;
        if (fraction > (TWO_POW_63 - 1n) / 10n) {
          precisionLost = true;
          continue;
        }
        const next = fraction * 10n + BigInt(text.charCodeAt(i) - 48);
        if (next > TWO_POW_63) {
          precisionLost = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      hasFraction = i > fracStart;
    }
    if (!hasWhole && !hasFraction) throw invalid(text);

    // Unit: everything up to the next digit or '.'.
    const unitStart = i;
    while (i < text.length && !(text[i] === '.' || isDigit(text[i]))) i++;
    if (i === unitStart) {
      throw new DurationError(`missing unit in duration ${JSON.stringify(text)}`);
    }
    const unitText = text.slice(unitStart, i);
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      throw new DurationError(
        `unknown unit ${JSON.stringify(unitText)} in duration ${JSON.stringify(text)} (units: ns, us, µs, ms, s, m, h)`,
      );
    }

    if (whole > TWO_POW_63 / unit) throw invalid(text);
    let value = whole * unit;
    if (fraction > 0n) {
      // Go computes the fraction in float64 and truncates; the same IEEE arithmetic here.
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
      if (value > TWO_POW_63) throw invalid(text);
    }
    total = asUint64(total + value);
    if (total > TWO_POW_63) throw invalid(text);
  }
  if (negative) return -total;
  if (total > TWO_POW_63 - 1n) throw invalid(text);
  return total;
}

/** Parses a Go duration into milliseconds (fractional below one millisecond). */
export function parseDurationMs(text: string): number {
  return Number(parseDuration(text)) / 1e6;
}

/** Writes `digits` fractional digits of `value` (trailing zeros and a bare '.' omitted). */
function splitFraction(value: bigint, digits: number): { rest: bigint; fraction: string } {
  let fraction = '';
  let rest = value;
  for (let k = 0; k < digits; k++) {
    const digit = rest % 10n;
    if (fraction !== '' || digit !== 0n) fraction = `${digit}${fraction}`;
    rest /= 10n;
  }
  return { rest, fraction: fraction === '' ? '' : `.${fraction}` };
}

/** Go's `Duration.String()`: "1h2m3.5s", "300ms", "1.5µs", "0s". */
export function formatDuration(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const magnitude = ns < 0n ? -ns : ns;
  if (magnitude === 0n) return '0s';
  if (magnitude < SECOND) {
    const [digits, unit] =
      magnitude < MICROSECOND ? [0, 'ns'] : magnitude < MILLISECOND ? [3, 'µs'] : [6, 'ms'];
    const { rest, fraction } = splitFraction(magnitude, digits);
    return `${sign}${rest}${fraction}${unit}`;
  }
  const { rest: totalSeconds, fraction } = splitFraction(magnitude, 9);
  const seconds = `${totalSeconds % 60n}${fraction}s`;
  const totalMinutes = totalSeconds / 60n;
  if (totalMinutes === 0n) return `${sign}${seconds}`;
  const minutes = `${totalMinutes % 60n}m`;
  const hours = totalMinutes / 60n;
  // Go stops at hours: days differ in length.
  return `${sign}${hours > 0n ? `${hours}h` : ''}${minutes}${seconds}`;
}
