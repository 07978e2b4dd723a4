/**
 * Release cases (docs/scenarios.md, "Release cases"): how a good release and
 * a bad release of the job behave, and optionally how likely each is, so one
 * scenario answers both "how long does a good release take" and "how far does
 * a bad one get". A case's behavior is the scenario's `behavior` block with the
 * case's fields on top (its overrides after the block's). A scenario without
 * `releases` has one behavior, as before.
 */
import type { BehaviorModel } from './behavior.js';
import type { Scenario } from './scenario.js';
import { seedKey, uniform } from './prng.js';
import { parseBehavior } from './scenarioBehavior.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { joinPath } from '../spec/path.js';
import { describe, isRecord, readFraction, type Problems } from './scenarioFields.js';

export const RELEASE_NAMES = ['good', 'bad'] as const;
export type ReleaseName = (typeof RELEASE_NAMES)[number];

export interface ReleaseCase {
  name: ReleaseName;
  /** How likely this case is, or null when the scenario does not say (then both are equally likely for `simulate`). */
  probability: number | null;
  behavior: BehaviorModel;
}

/** Probabilities that add up to 1 within this tolerance are accepted (0.1 + 0.9 in binary floating point). */
const SUM_TOLERANCE = 1e-9;

/**
 * Validates `releases` (absent: null). `baseBehavior` is the scenario's raw
 * `behavior` value; each case's behavior is validated alone (so problems
 * carry the case's paths) and then compiled merged onto it.
 */
export function parseReleases(value: unknown, baseBehavior: unknown, path: string, problems: Problems): ReleaseCase[] | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) {
    problems.push({ path, message: `expected { good: {probability?, behavior}, bad: {probability?, behavior} }, found ${describe(value)}` });
    return null;
  }
  checkKnownKeys(value, RELEASE_NAMES, path, problems);
  const named = RELEASE_NAMES.filter((name) => value[name] !== undefined);
  if (named.length === 0) {
    problems.push({ path, message: 'names no release case: give good, bad, or both' });
    return null;
  }
  const before = problems.length;
  const cases: ReleaseCase[] = [];
  for (const name of named) {
    const at = joinPath(path, name);
    const raw = value[name];
    if (!isRecord(raw)) {
      problems.push({ path: at, message: `expected { probability?, behavior }, found ${describe(raw)}` });
      continue;
    }
    checkKnownKeys(raw, ['probability', 'behavior'], at, problems);
    const probability = raw.probability === undefined ? null : (readFraction(raw.probability, joinPath(at, 'probability'), problems) ?? null);
    if (raw.behavior === undefined) problems.push({ path: joinPath(at, 'behavior'), message: `required: how a ${name} release behaves (behavior fields, as in the behavior block)` });
    else if (!isRecord(raw.behavior)) problems.push({ path: joinPath(at, 'behavior'), message: `expected behavior fields, found ${describe(raw.behavior)}` });
    else parseBehavior(raw.behavior, joinPath(at, 'behavior'), problems);
    cases.push({ name, probability, behavior: mergedBehavior(baseBehavior, raw.behavior) });
  }
  checkProbabilities(cases, path, problems);
  return problems.length > before ? null : completeProbabilities(cases);
}

/** The scenario's behavior block with a case's fields on top; both were validated on their own. */
function mergedBehavior(base: unknown, overlay: unknown): BehaviorModel {
  const baseRecord = isRecord(base) ? base : {};
  const overlayRecord = isRecord(overlay) ? overlay : {};
  const overrides = [...asList(baseRecord.overrides), ...asList(overlayRecord.overrides)];
  const merged: Record<string, unknown> = { ...baseRecord, ...overlayRecord };
  if (overrides.length > 0) merged.overrides = overrides;
  else delete merged.overrides;
  return parseBehavior(merged, '', []);
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function checkProbabilities(cases: readonly ReleaseCase[], path: string, problems: Problems): void {
  const given = cases.filter((release) => release.probability !== null);
  if (given.length === 0) return;
  if (cases.length === 1) {
    problems.push({ path: joinPath(joinPath(path, cases[0]!.name), 'probability'), message: 'a probability needs both cases (good and bad): drop it, or add the other case' });
    return;
  }
  if (given.length === 2) {
    const sum = given[0]!.probability! + given[1]!.probability!;
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      problems.push({ path, message: `the probabilities of good and bad add up to ${sum}, not 1 (give one of them and the other is the rest)` });
    }
  }
}

/** One probability given: the other case is the rest. */
function completeProbabilities(cases: ReleaseCase[]): ReleaseCase[] {
  const given = cases.find((release) => release.probability !== null);
  if (cases.length !== 2 || given === undefined) return cases;
  return cases.map((release) => (release.probability === null ? { ...release, probability: 1 - given.probability! } : release));
}

/** The case `simulate` plays in the run with `seed`: a draw of the seed alone, so every policy gets the same case. */
export function releaseOfRun(cases: readonly ReleaseCase[], seed: number): ReleaseCase {
  if (cases.length === 1) return cases[0]!;
  const good = cases.find((release) => release.name === 'good')!;
  const chanceOfGood = good.probability ?? 1 / cases.length;
  return uniform(seedKey(seed), RELEASE_DRAW) < chanceOfGood ? good : cases.find((release) => release.name === 'bad')!;
}

/** The draw number of the release draw on the seed's own stream (no node stream uses the seed key bare). */
const RELEASE_DRAW = 0x52454c;

/** The scenario playing one case in every run (`simulate --release`), or null when it has no such case. */
export function withRelease(scenario: Scenario, name: ReleaseName): Scenario | null {
  const release = scenario.releases?.find((played) => played.name === name);
  return release === undefined ? null : { ...scenario, behavior: release.behavior, releases: null };
}
