/**
 * Scenario files (contract section 9): load, validate and resolve a what-if
 * scenario into plain data (structured-cloneable, so Monte Carlo workers can
 * receive it). Every problem is reported at once, each naming its file and
 * field: the scenario's own fields under the scenario file, a JobSpec file's
 * problems under that file. JobSpec paths are relative to the scenario file.
 */
import { dirname, isAbsolute, join as joinPath } from 'node:path';
import type { FleetNode } from '../selector/types.js';
import { loadJobSpec, parseDocument, validateJobSpec } from '../spec/index.js';
import type { JobSpec, Problem, ValidationResult } from '../spec/types.js';
import type { BehaviorModel } from './behavior.js';
import { parseFleet, type FleetFits } from './fleet.js';
import { parseBehavior } from './scenarioBehavior.js';
import { parseReleases, type ReleaseCase } from './releaseCases.js';
import { parseEvents, type ScenarioEvent } from './scenarioEvents.js';
import { sameSpec } from '../engine/index.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { describe, isRecord, readDuration, type Problems } from './scenarioFields.js';

export type { ScenarioEvent } from './scenarioEvents.js';

export interface Scenario {
  /** The scenario file as named by the user (`<stdin>` for standard input). */
  source: string;
  /** The file's first line when it is a comment (`# what this scenario shows`), else null. */
  description: string | null;
  seed: number;
  /** Milliseconds of virtual time after which the run stops. */
  horizon: number;
  fleet: FleetNode[];
  /** The version running at time 0 (version 1), or null: the job is then created. */
  previous: JobSpec | null;
  job: JobSpec;
  behavior: BehaviorModel;
  /** How a good and a bad release behave (releaseCases.ts), or null: every run uses `behavior`. */
  releases: ReleaseCase[] | null;
  /** In the order they run: by `at`, then file order. */
  events: ScenarioEvent[];
}

/** A problem and the file it is in. */
export interface SourcedProblem extends Problem {
  source: string;
}

export type ScenarioLoad =
  | { ok: true; scenario: Scenario; warnings: SourcedProblem[] }
  | { ok: false; errors: SourcedProblem[]; warnings: SourcedProblem[] };

/** Reads a JobSpec file a scenario names; `file` is the scenario's folder joined with the path written. */
export type ReadJobFile = (file: string) => Promise<{ ok: true; bytes: Uint8Array } | { ok: false; message: string }>;

export const DEFAULT_SEED = 1;
export const DEFAULT_HORIZON_MS = 24 * 60 * 60 * 1000;

export const SCENARIO_KEYS = ['seed', 'horizon', 'fleet', 'previous', 'job', 'behavior', 'releases', 'events'];

export async function loadScenario(input: string | Uint8Array, source: string, readJobFile: ReadJobFile, fleetFits?: FleetFits): Promise<ScenarioLoad> {
  const document = parseDocument(input, source);
  if (!document.ok) return { ok: false, errors: [{ ...document.problem, source }], warnings: [] };
  const raw = document.value;
  if (!isRecord(raw)) {
    return { ok: false, errors: [{ source, path: '', message: `expected a scenario (an object with fleet, job, behavior, events ...), found ${describe(raw)}` }], warnings: [] };
  }

  const jobs = await loadJobs(raw, source, readJobFile);
  const problems: Problems = [];
  checkKnownKeys(raw, SCENARIO_KEYS, '', problems);

  const seed = raw.seed === undefined ? DEFAULT_SEED : readSeed(raw.seed, 'seed', problems);
  const horizon = raw.horizon === undefined ? DEFAULT_HORIZON_MS : readDuration(raw.horizon, 'horizon', problems, { allowZero: false });
  let fleet: FleetNode[] = [];
  // The ids events may name: those of an invalid fleet too, so one bad node does not make its neighbours "unknown".
  let fleetIds: string[] = [];
  if (raw.fleet === undefined) problems.push({ path: 'fleet', message: 'required: the nodes of the fleet (nodes and/or groups)' });
  else {
    const parsed = parseFleet(raw.fleet, 'fleet', fleetFits);
    if (parsed.ok) {
      fleet = parsed.nodes;
      fleetIds = fleet.map((node) => node.id);
    } else {
      problems.push(...parsed.errors);
      fleetIds = parsed.ids;
    }
  }
  if (raw.job === undefined) problems.push({ path: 'job', message: 'required: the JobSpec being rolled out (a file path or an inline JobSpec)' });
  const behavior = parseBehavior(raw.behavior, 'behavior', problems);
  const releases = parseReleases(raw.releases, raw.behavior, 'releases', problems);
  const events = parseEvents(raw.events, 'events', problems, {
    fleetIds: new Set(raw.events === undefined ? [] : fleetIds),
    horizon: horizon ?? DEFAULT_HORIZON_MS,
    submitted: (path) => jobs.specs.get(path),
  });
  checkOneJob(jobs.specs, problems);
  checkJobChanges(jobs.specs, problems);

  const errors = [...problems.map((problem) => ({ ...problem, source })), ...jobs.errors];
  const job = jobs.specs.get('job');
  if (errors.length > 0 || seed === undefined || horizon === undefined || job === undefined) {
    return { ok: false, errors, warnings: jobs.warnings };
  }
  const previous = jobs.specs.get('previous') ?? null;
  const description = firstLineComment(input);
  return { ok: true, scenario: { source, description, seed, horizon, fleet, previous, job, behavior, releases, events }, warnings: jobs.warnings };
}

function firstLineComment(input: string | Uint8Array): string | null {
  const head = typeof input === 'string' ? input.slice(0, 1024) : Buffer.from(input.subarray(0, 1024)).toString('utf8');
  const line = /^\uFEFF?#[ \t]*([^\r\n]*)/.exec(head)?.[1]?.trim();
  return line === undefined || line === '' ? null : line;
}

function readSeed(value: unknown, path: string, problems: Problems): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  problems.push({ path, message: `expected an integer from 0 to ${Number.MAX_SAFE_INTEGER}, found ${describe(value)}` });
  return undefined;
}

interface LoadedJobs {
  /** By the scenario path that names them: `previous`, `job`, `events[3].submit`. */
  specs: Map<string, JobSpec>;
  errors: SourcedProblem[];
  warnings: SourcedProblem[];
}

/** Loads every JobSpec the scenario names, from files (relative to the scenario) or inline. */
async function loadJobs(raw: Record<string, unknown>, source: string, readJobFile: ReadJobFile): Promise<LoadedJobs> {
  const references: Array<[string, unknown]> = [];
  if (raw.previous !== undefined) references.push(['previous', raw.previous]);
  if (raw.job !== undefined) references.push(['job', raw.job]);
  if (Array.isArray(raw.events)) {
    raw.events.forEach((event: unknown, index) => {
      if (isRecord(event) && event.submit !== undefined) references.push([`events[${index}].submit`, event.submit]);
    });
  }
  const loaded: LoadedJobs = { specs: new Map(), errors: [], warnings: [] };
  for (const [path, value] of references) {
    if (typeof value === 'string') {
      const file = isAbsolute(value) ? value : joinPath(dirname(source), value);
      const read = await readJobFile(file);
      if (!read.ok) {
        loaded.errors.push({ source, path, message: `cannot read the JobSpec ${JSON.stringify(file)}: ${read.message}` });
        continue;
      }
      addResult(loaded, path, loadJobSpec(read.bytes, file), file, '');
    } else if (isRecord(value)) {
      addResult(loaded, path, validateJobSpec(value), source, path);
    } else {
      loaded.errors.push({ source, path, message: `expected a JobSpec: a file path or an inline object, found ${describe(value)}` });
    }
  }
  return loaded;
}

/** A JobSpec's problems under its own file, or under the scenario's field for an inline one. */
function addResult(loaded: LoadedJobs, path: string, result: ValidationResult, source: string, prefix: string): void {
  const place = (problem: Problem): SourcedProblem => ({
    source,
    path: prefix === '' ? problem.path : problem.path === '' ? prefix : `${prefix}.${problem.path}`,
    message: problem.message,
  });
  loaded.warnings.push(...result.warnings.map(place));
  if (result.valid) loaded.specs.set(path, result.spec);
  else loaded.errors.push(...result.errors.map(place));
}

/** §1: a submission equal to the current version starts nothing, so a what-if of it has nothing to show. */
function checkJobChanges(specs: Map<string, JobSpec>, problems: Problems): void {
  const previous = specs.get('previous');
  const job = specs.get('job');
  if (previous !== undefined && job !== undefined && sameSpec(previous, job)) {
    problems.push({ path: 'job', message: 'is the same JobSpec as previous (once normalized): the engine would report it unchanged and nothing would roll out' });
  }
}

/** A scenario rolls out versions of one job: every JobSpec it names has the same namespace and name. */
function checkOneJob(specs: Map<string, JobSpec>, problems: Problems): void {
  const identity = (spec: JobSpec): string => `${spec.namespace}/${spec.name}`;
  let reference: [string, string] | undefined;
  for (const [path, spec] of specs) {
    if (reference === undefined) reference = [path, identity(spec)];
    else if (identity(spec) !== reference[1]) {
      problems.push({
        path,
        message: `names the job ${JSON.stringify(identity(spec))}, but ${reference[0]} is ${JSON.stringify(reference[1])}: a scenario rolls out versions of one job`,
      });
    }
  }
}
