/**
 * The rules of contract §2 that involve more than one field, the warnings,
 * and the selector grammar. They read the raw document (own properties only)
 * and judge only values of the right type: a value of the wrong type already
 * has its error from the schema, and one problem per cause is enough.
 */
import { parseSelectorExpression } from '../selector/parse.js';
import { describeValue } from './describeValue.js';
import { DurationError, parseDuration } from './duration.js';
import { formatPath } from './path.js';
import { own } from './raw.js';
import { DEFAULTS, STRATEGIES } from './schema.js';
import type { Problem, Strategy } from './types.js';

export interface Findings {
  errors: Problem[];
  warnings: Problem[];
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

const isStrategy = (value: unknown): value is Strategy => (STRATEGIES as readonly unknown[]).includes(value);

/** A Go duration's nanoseconds, or undefined when the text is not one (the schema reports that). */
function durationOf(value: unknown): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    if (error instanceof DurationError) return undefined;
    throw error;
  }
}

export function checkRules(spec: unknown): Findings {
  const findings: Findings = { errors: [], warnings: [] };
  checkStrategyRules(spec, findings);
  checkHealthCheckTimes(spec, findings);
  checkTimeouts(spec, findings);
  checkSelectorExpressions(spec, findings);
  checkProtoKeys(spec, findings);
  return findings;
}

function checkStrategyRules(spec: unknown, { errors, warnings }: Findings): void {
  const deployment = own(spec, 'deployment');
  const strategy = own(deployment, 'strategy') ?? DEFAULTS.strategy;
  if (!isStrategy(strategy)) return;
  const at = (field: string): string => `deployment.${field}`;
  const isSet = (field: string): boolean => own(deployment, field) !== undefined;

  if (strategy === 'immediate') {
    if (isSet('health_check')) {
      warnings.push({ path: at('health_check'), message: 'ignored: strategy "immediate" does not check health' });
    }
    if (isSet('max_parallel')) {
      warnings.push({ path: at('max_parallel'), message: 'ignored: strategy "immediate" starts every node at once' });
    }
  } else if (!isSet('health_check')) {
    errors.push({
      path: at('health_check'),
      message: `required for strategy "${strategy}"; expected an object with at least "deadline", found nothing`,
    });
  }

  if (strategy === 'rolling' && own(deployment, 'max_parallel') === 0) {
    warnings.push({ path: at('max_parallel'), message: '0 means no bound: every targeted node updates at once' });
  }

  if (strategy !== 'canary') {
    for (const field of ['canary_count', 'canary_percent', 'auto_promote']) {
      if (isSet(field)) warnings.push({ path: at(field), message: 'ignored: only strategy "canary" uses it' });
    }
    return;
  }
  const count = own(deployment, 'canary_count') ?? DEFAULTS.canary_count;
  const percent = own(deployment, 'canary_percent') ?? DEFAULTS.canary_percent;
  if (!isCount(count) || !isCount(percent) || percent > 100) return;
  if (count === 0 && percent === 0) {
    errors.push({
      path: at('canary_count'),
      message: 'strategy "canary" needs canary_count > 0 or canary_percent > 0, found neither',
    });
  } else if (count > 0 && percent > 0) {
    warnings.push({
      path: at('canary_percent'),
      message: `ignored: canary_count (${count}) wins over canary_percent (${percent})`,
    });
  }
}

function checkHealthCheckTimes(spec: unknown, { errors }: Findings): void {
  const healthCheck = own(own(spec, 'deployment'), 'health_check');
  const deadlineText = own(healthCheck, 'deadline');
  const explicitMinimum = own(healthCheck, 'min_healthy_time');
  const minimumText = explicitMinimum ?? DEFAULTS.min_healthy_time;
  const deadline = durationOf(deadlineText);
  const minimum = durationOf(minimumText);
  if (deadline === undefined || minimum === undefined || deadline <= 0n || minimum < 0n || minimum < deadline) return;
  // Point at the field the user wrote: a default min_healthy_time makes the deadline the one to change.
  errors.push(
    explicitMinimum === undefined
      ? {
          path: 'deployment.health_check.deadline',
          message: `expected more than min_healthy_time (default ${describeValue(minimumText)}), found ${describeValue(deadlineText)}`,
        }
      : {
          path: 'deployment.health_check.min_healthy_time',
          message: `expected less than deadline (${describeValue(deadlineText)}), found ${describeValue(minimumText)}`,
        },
  );
}

function checkTimeouts(spec: unknown, { errors }: Findings): void {
  const timeouts = own(spec, 'timeouts');
  const total = own(timeouts, 'total_timeout');
  if (!isCount(total) || total === 0) return;
  for (const field of ['queue_timeout', 'execution_timeout']) {
    const value = own(timeouts, field);
    if (isCount(value) && value > total) {
      errors.push({
        path: `timeouts.${field}`,
        message: `expected at most total_timeout (${total}), found ${value}`,
      });
    }
  }
}

function checkSelectorExpressions(spec: unknown, { errors }: Findings): void {
  const expressions = own(own(spec, 'selector'), 'match_expressions');
  if (!Array.isArray(expressions)) return;
  expressions.forEach((expression: unknown, index) => {
    if (typeof expression !== 'string') return;
    const parsed = parseSelectorExpression(expression);
    if (!parsed.ok) {
      // The parser's message already names the column ("... at column 9, found ...").
      errors.push({ path: `selector.match_expressions[${index}]`, message: parsed.message });
    }
  });
}

/** zod skips a record's `__proto__` key (a pollution guard), so its value is checked here. */
function checkProtoKeys(spec: unknown, { errors }: Findings): void {
  const maps: Array<[string, ...string[]]> = [['labels'], ['meta'], ['selector', 'match_labels']];
  for (const segments of maps) {
    const map = segments.reduce<unknown>((value, key) => own(value, key), spec);
    const value = own(map, '__proto__');
    if (value !== undefined && typeof value !== 'string') {
      errors.push({ path: formatPath([...segments, '__proto__']), message: `expected a string, found ${describeValue(value)}` });
    }
  }
}
