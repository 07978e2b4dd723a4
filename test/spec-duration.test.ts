import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration, parseDurationMs } from '../src/spec/duration.js';

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const S = 1000n * MS;
const M = 60n * S;
const H = 60n * M;
const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);

// Cases from Go's time.ParseDuration tests: the contract (§2) says "Go duration".
const goParseCases: Array<[string, bigint]> = [
  ['0', 0n],
  ['5s', 5n * S],
  ['30s', 30n * S],
  ['1478s', 1478n * S],
  ['-5s', -5n * S],
  ['+5s', 5n * S],
  ['-0', 0n],
  ['+0', 0n],
  ['5.0s', 5n * S],
  ['5.6s', 5n * S + 600n * MS],
  ['5.s', 5n * S],
  ['.5s', 500n * MS],
  ['1.0s', S],
  ['1.00s', S],
  ['1.004s', S + 4n * MS],
  ['1.0040s', S + 4n * MS],
  ['100.00100s', 100n * S + MS],
  ['10ns', 10n],
  ['11us', 11n * US],
  ['12\u00b5s', 12n * US],
  ['12\u03bcs', 12n * US],
  ['13ms', 13n * MS],
  ['14s', 14n * S],
  ['15m', 15n * M],
  ['16h', 16n * H],
  ['3h30m', 3n * H + 30n * M],
  ['10.5s4m', 4n * M + 10n * S + 500n * MS],
  ['-2m3.4s', -(2n * M + 3n * S + 400n * MS)],
  ['1h2m3s4ms5us6ns', H + 2n * M + 3n * S + 4n * MS + 5n * US + 6n],
  ['39h9m14.425s', 39n * H + 9n * M + 14n * S + 425n * MS],
  ['52763797000ns', 52763797000n],
  ['0.3333333333333333333h', 20n * M],
  ['9007199254740993ns', (1n << 53n) + 1n],
  ['9223372036854775807ns', MAX_INT64],
  ['9223372036854775.807us', MAX_INT64],
  ['9223372036854.775807ms', MAX_INT64],
  ['9223372036.854775807s', MAX_INT64],
  ['2562047h47m16.854775807s', MAX_INT64],
  ['-9223372036854775808ns', MIN_INT64],
  ['-9223372036854775.808us', MIN_INT64],
  ['-2562047h47m16.854775808s', MIN_INT64],
  ['0.100000000000000000000h', 6n * M],
  // Go computes fractions in float64: this one checks the same rounding.
  ['0.830103483285477580700h', 49n * M + 48n * S + 372539827n],
  ['1.5h', H + 30n * M],
  ['2h45m', 2n * H + 45n * M],
  ['300ms', 300n * MS],
];

const goParseErrors = [
  '',
  '3',
  '-',
  's',
  '.',
  '-.',
  '.s',
  '+.s',
  '1d',
  '\u0085\u0085',
  '\uffff',
  'hello \uffff world',
  '1h 30m',
  '00',
  '9223372036854775808ns',
  '9223372036854775.808us',
  '9223372036854ms775us808ns',
  '-9223372036854775809ns',
];

describe('§2 Go durations: parseDuration', () => {
  it.each(goParseCases)('§2 parses %j as Go does', (text, expected) => {
    expect(parseDuration(text)).toBe(expected);
  });

  it.each(goParseErrors)('§2 rejects %j as Go does', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
  });

  it('§2 the error quotes the input and names the problem', () => {
    expect(() => parseDuration('5d')).toThrow('unknown unit "d" in duration "5d"');
    expect(() => parseDuration('30')).toThrow('missing unit in duration "30"');
    expect(() => parseDuration('abc')).toThrow('invalid duration "abc"');
  });

  it('§2 parseDurationMs gives milliseconds, fractional below one', () => {
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs('300ms')).toBe(300);
    expect(parseDurationMs('1.5\u00b5s')).toBe(0.0015);
    expect(parseDurationMs('0')).toBe(0);
  });

  it('§2 parseDuration should never throw anything but DurationError', () => {
    const durationish = fc.stringMatching(/^[-+]?[0-9.]{0,25}(ns|us|µs|ms|s|m|h|d|x)?([0-9.]{0,25}(ns|s|m|h))*$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), durationish), (text) => {
        try {
          const ns = parseDuration(text);
          expect(ns >= MIN_INT64 && ns <= MAX_INT64).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(DurationError);
        }
      }),
    );
  });

  it('§2 a sum of whole-number segments parses to the sum of their values', () => {
    const units: Array<[string, bigint]> = [['ns', NS], ['us', US], ['ms', MS], ['s', S], ['m', M], ['h', H]];
    const segment = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...units));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean(), (segments, negative) => {
        const text = `${negative ? '-' : ''}${segments.map(([n, [unit]]) => `${n}${unit}`).join('')}`;
        const sum = segments.reduce((total, [n, [, size]]) => total + BigInt(n) * size, 0n);
        expect(parseDuration(text)).toBe(negative ? -sum : sum);
      }),
    );
  });
});

describe('§2 Go durations: formatDuration (Duration.String)', () => {
  it.each<[bigint, string]>([
    [0n, '0s'],
    [1n, '1ns'],
    [1100n, '1.1\u00b5s'],
    [2200n * US, '2.2ms'],
    [3300n * MS, '3.3s'],
    [4n * M + 5n * S, '4m5s'],
    [4n * M + 5001n * MS, '4m5.001s'],
    [5n * H + 6n * M + 7001n * MS, '5h6m7.001s'],
    [8n * M + 1n, '8m0.000000001s'],
    [H, '1h0m0s'],
    [300n * MS, '300ms'],
    [1500n, '1.5\u00b5s'],
    [H + 2n * M + 3500n * MS, '1h2m3.5s'],
    [-1500n * MS, '-1.5s'],
    [MAX_INT64, '2562047h47m16.854775807s'],
    [MIN_INT64, '-2562047h47m16.854775808s'],
  ])('§2 formats %s ns as %j', (ns, text) => {
    expect(formatDuration(ns)).toBe(text);
  });

  it('§2 formatting then parsing should give back the same duration', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: MIN_INT64, max: MAX_INT64 }), (ns) => {
        expect(parseDuration(formatDuration(ns))).toBe(ns);
      }),
    );
  });
});
