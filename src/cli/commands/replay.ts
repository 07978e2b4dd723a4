/**
 * `replay RECORDING --policy B.yaml [--job NAME] [--deployment ID] [--seed N] [--json]`:
 * a recorded rollout (an engine's SQLite store) run again under another
 * policy, each node behaving as it did relative to its own start
 * (src/sim/counterfactual.ts). Everything wrong with the input is an
 * `InputError` naming the file (the recording or the policy) and the field.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { sameSpec } from '../../engine/index.js';
import { SqliteStoreReader, StoreFileError } from '../../engine/store/sqliteStore.js';
import { chooseDeployment, compareWithRecording, recordedSpec, type ReplayComparison } from '../../sim/counterfactual.js';
import { pasteableDeployment, policyJob } from '../../sim/policy.js';
import { playRecording, RecordingError, type Recording } from '../../sim/recordingPlayback.js';
import { ScenarioRunError } from '../../sim/run.js';
import { parseDocument } from '../../spec/index.js';
import type { JobSpec } from '../../spec/types.js';
import { InputError } from '../errors.js';
import { JOBSPEC_INPUT, readInput } from '../input.js';
import type { CliIO } from '../io.js';
import { formatProblem } from '../print/problems.js';

export interface ReplayArgs {
  recording: string;
  policy: string;
  job?: string;
  deployment?: string;
  seed?: number;
}

export interface ReplayOutcome {
  recording: string;
  policy: string;
  comparison: ReplayComparison;
}

export const DEFAULT_REPLAY_SEED = 1;

export async function replayCommand(args: ReplayArgs, io: CliIO): Promise<ReplayOutcome> {
  const recording = readRecording(args.recording, io.cwd);
  const deployment = about(args.recording, () => chooseDeployment(recording, { job: args.job, deployment: args.deployment }));
  const own = about(args.recording, () => recordedSpec(deployment));
  const policy = await readReplayPolicy(args.policy, own, deployment.completedSpec, io);
  const seed = args.seed ?? DEFAULT_REPLAY_SEED;
  const comparison = about(args.recording, () => compareWithRecording(recording, deployment, policy, seed));
  return { recording: args.recording, policy: args.policy, comparison };
}

/** The store's journal played through the engine; a trace or any other file is refused saying what replay needs. */
function readRecording(file: string, cwd: string): Recording {
  const path = resolve(cwd, file);
  let reader: SqliteStoreReader;
  try {
    reader = new SqliteStoreReader(path);
  } catch (error) {
    if (!(error instanceof StoreFileError)) throw error;
    if (looksLikeTrace(path)) throw InputError.single(file, TRACE_NEEDS);
    throw InputError.single(file, error.reason);
  }
  try {
    const state = about(file, () => reader.load());
    if (state === null) throw InputError.single(file, 'is an empty store: no engine has written to it yet');
    // A store that archives its compacted entries holds the whole history: played from the first entry, no snapshot needed.
    const archived = about(file, () => reader.history());
    return about(file, () => playRecording(archived === null ? state : { snapshot: null, journal: archived.journal }));
  } finally {
    reader.close();
  }
}

const TRACE_NEEDS =
  "is a simulator trace (--trace), which holds the engine's decisions (started, stable, failed) but not what the nodes reported, the fleet's labels nor the JobSpec: " +
  'replay needs the store of the engine that ran the rollout (its journal has all three); for a simulated rollout, run the scenario under both policies with `fleet-rollout compare`';

/** A trace file is JSON lines whose first event is a deployment's. */
function looksLikeTrace(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    const bytes = Buffer.alloc(4096);
    const read = readSync(fd, bytes, 0, bytes.length, 0);
    closeSync(fd);
    const head = bytes.subarray(0, read).toString('utf8');
    const first = JSON.parse(head.split('\n')[0] ?? '') as { t?: unknown; type?: unknown };
    return typeof first.t === 'number' && typeof first.type === 'string' && first.type.startsWith('deployment.');
  } catch {
    return false;
  }
}

/** B.yaml: a whole JobSpec of the same job, or a deployment block merged onto the recorded spec. */
async function readReplayPolicy(file: string, own: JobSpec, previous: JobSpec | null, io: CliIO): Promise<JobSpec> {
  const input = await readInput(file, JOBSPEC_INPUT, io);
  const document = parseDocument(input.bytes, input.source);
  if (!document.ok) throw new InputError(input.source, [document.problem]);
  // Onto the fields the recorded strategy uses: a normalized spec carries them all, and a block would be warned about the others.
  const load = policyJob(document.value, { ...own, deployment: pasteableDeployment(own) as unknown as JobSpec['deployment'] });
  if (load.warnings.length > 0) io.stderr.write(`${load.warnings.map((problem) => formatProblem(input.source, problem)).join('\n')}\n`);
  if (!load.ok) throw new InputError(input.source, load.errors.map((problem) => ({ ...problem, message: problem.message.replace('the scenario rolls out', 'the recording rolls out') })));
  if (previous !== null && sameSpec(previous, load.job)) {
    throw InputError.single(input.source, 'is the version the recorded deployment would roll back to (once normalized): the engine would report it unchanged and nothing would roll out');
  }
  return load.job;
}

/** A recording the replay cannot use is bad input about that file. */
function about<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RecordingError) throw InputError.single(file, error.message);
    if (error instanceof StoreFileError) throw InputError.single(file, error.reason);
    if (error instanceof ScenarioRunError) throw InputError.single(file, `cannot be replayed: ${error.path} ${error.message}`);
    throw error;
  }
}
