/** The `behavior` block of a scenario (contract section 9), validated into a `BehaviorModel`. */
import { parseSelectorExpression, type SelectorInput } from '../selector/index.js';
import { DEFAULT_BEHAVIOR, type Behavior, type BehaviorModel } from './behavior.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { joinPath } from '../spec/path.js';
import {
  describe,
  isRecord,
  readDuration,
  readFraction,
  readRange,
  type Problems,
} from './scenarioFields.js';

export const BEHAVIOR_FIELDS = ['start_delay', 'report_interval', 'fail_probability', 'crash_probability', 'error_rate'] as const;
const SELECTOR_KEYS = ['match_labels', 'match_expressions', 'match_ids'];

export function parseBehavior(value: unknown, path: string, problems: Problems): BehaviorModel {
  const model: BehaviorModel = { base: { ...DEFAULT_BEHAVIOR }, overrides: [] };
  if (value === undefined || value === null) return model;
  if (!isRecord(value)) {
    problems.push({ path, message: `expected an object with ${BEHAVIOR_FIELDS.join(', ')}, overrides; found ${describe(value)}` });
    return model;
  }
  checkKnownKeys(value, [...BEHAVIOR_FIELDS, 'overrides'], path, problems);
  Object.assign(model.base, behaviorFields(value, path, problems));

  const overrides = value.overrides;
  if (overrides === undefined || overrides === null) return model;
  if (!Array.isArray(overrides)) {
    problems.push({ path: joinPath(path, 'overrides'), message: `expected a list of { selector, ...behavior fields }, found ${describe(overrides)}` });
    return model;
  }
  overrides.forEach((raw: unknown, index) => {
    const at = `${joinPath(path, 'overrides')}[${index}]`;
    if (!isRecord(raw)) {
      problems.push({ path: at, message: `expected { selector, ...behavior fields }, found ${describe(raw)}` });
      return;
    }
    checkKnownKeys(raw, ['selector', ...BEHAVIOR_FIELDS], at, problems);
    const selector = parseOverrideSelector(raw.selector, joinPath(at, 'selector'), problems);
    const behavior = behaviorFields(raw, at, problems);
    if (Object.keys(behavior).length === 0) {
      problems.push({ path: at, message: `sets no behavior field; give one of ${BEHAVIOR_FIELDS.join(', ')}` });
    }
    if (selector !== undefined) model.overrides.push({ selector, behavior });
  });
  return model;
}

/** The behavior fields an object sets (base block or override). */
function behaviorFields(value: Record<string, unknown>, path: string, problems: Problems): Partial<Behavior> {
  const behavior: Partial<Behavior> = {};
  const set = <K extends keyof Behavior>(key: K, read: (raw: unknown, at: string) => Behavior[K] | undefined): void => {
    if (value[key] === undefined) return;
    const parsed = read(value[key], joinPath(path, key));
    if (parsed !== undefined) behavior[key] = parsed;
  };
  set('start_delay', (raw, at) => readRange(raw, at, problems, (v, p, list) => readDuration(v, p, list, { allowZero: true })));
  set('report_interval', (raw, at) => readDuration(raw, at, problems, { allowZero: false }));
  set('fail_probability', (raw, at) => readFraction(raw, at, problems));
  set('crash_probability', (raw, at) => readFraction(raw, at, problems));
  set('error_rate', (raw, at) => readRange(raw, at, problems, readFraction));
  return behavior;
}

/** A JobSpec-style selector; expressions must parse (the error names the column). */
function parseOverrideSelector(value: unknown, path: string, problems: Problems): SelectorInput | undefined {
  if (value === undefined) {
    problems.push({ path, message: 'required: the nodes this override applies to (match_labels, match_expressions, match_ids)' });
    return undefined;
  }
  if (!isRecord(value)) {
    problems.push({ path, message: `expected a selector (match_labels, match_expressions, match_ids), found ${describe(value)}` });
    return undefined;
  }
  checkKnownKeys(value, SELECTOR_KEYS, path, problems);
  const before = problems.length;
  const selector: SelectorInput = {};

  const labels = value.match_labels;
  if (labels !== undefined) {
    const at = joinPath(path, 'match_labels');
    if (!isRecord(labels)) problems.push({ path: at, message: `expected a map of label key to string value, found ${describe(labels)}` });
    else {
      for (const [key, label] of Object.entries(labels)) {
        if (typeof label !== 'string') problems.push({ path: joinPath(at, key), message: `expected a string, found ${describe(label)}` });
      }
      selector.match_labels = labels as Record<string, string>;
    }
  }
  selector.match_expressions = stringList(value.match_expressions, joinPath(path, 'match_expressions'), problems, (expression, at) => {
    const parsed = parseSelectorExpression(expression);
    if (!parsed.ok) problems.push({ path: at, message: `column ${parsed.column}: ${parsed.message}` });
  });
  selector.match_ids = stringList(value.match_ids, joinPath(path, 'match_ids'), problems, () => {});
  return problems.length > before ? undefined : selector;
}

function stringList(value: unknown, path: string, problems: Problems, check: (item: string, path: string) => void): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: `expected a list of strings, found ${describe(value)}` });
    return [];
  }
  value.forEach((item: unknown, index) => {
    if (typeof item === 'string') check(item, `${path}[${index}]`);
    else problems.push({ path: `${path}[${index}]`, message: `expected a string, found ${describe(item)}` });
  });
  return value as string[];
}
