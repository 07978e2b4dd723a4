/**
 * Jobs and their deployments (§1, §7): a changed spec or a rollback
 * becomes a new deployment, superseding the job's active one and targeting
 * the fleet as it stands; operator commands go to the job's latest
 * deployment. Each deployment is its own room (machines/room.ts).
 */
import { carriedExposure, DeploymentRoom, isTerminal, type DeploymentSnapshot, type DeploymentView, type RoomPorts } from '../../machines/index.js';
import { compileSelector, type NodePredicate } from '../selector/match.js';
import { compareNodeIds } from '../selector/order.js';
import type { JobSpec } from '../spec/types.js';
import { checkCommand } from './commandRules.js';
import { send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import { CommandError } from './errors.js';
import { sameSpec } from './sameSpec.js';
import type { JobRecord } from './snapshot.js';
import type { DeploymentKind, OperatorCommand, RejectedVersion, SubmitResult } from './types.js';

export function jobKey(spec: JobSpec): string {
  return `${spec.namespace}/${spec.name}`;
}

/**
 * §1: a new version when the normalized spec differs from the current one.
 * v1.1: a spec equal to the latest submitted version whose deployment failed,
 * was rolled back or was canceled is `unchanged` too (it says what became of
 * it), unless `retry` asks to deploy it again as a new version.
 */
export function onSubmit(core: EngineCore, spec: JobSpec, retry = false): SubmitResult {
  const key = jobKey(spec);
  const job = core.jobs.get(key);
  if (job === undefined) {
    const created: JobRecord = {
      key,
      versions: { 1: frozenCopy(spec) },
      versionCount: 1,
      current: 1,
      lastCompleted: null,
      completed: [],
      submitted: '',
      deployments: 0,
      latest: '',
      history: [],
    };
    core.jobs.set(key, created);
    return { job: key, version: 1, unchanged: false, deployment: createDeployment(core, created, 1, 'create') };
  }
  const current = sameSpec(job.versions[job.current]!, spec);
  // The job runs this spec and its latest deployment was not rejected: plainly unchanged.
  if (current && !isRejected(latestOf(core, job).view)) return { job: key, version: job.current, unchanged: true, deployment: null };
  const rejected = rejectedAs(core, job, spec);
  if (rejected !== null) {
    if (!retry) return { job: key, version: rejected.version, unchanged: true, deployment: null, rejected };
  } else if (current) {
    return { job: key, version: job.current, unchanged: true, deployment: null };
  }
  const version = ++job.versionCount;
  job.versions[version] = frozenCopy(spec);
  return { job: key, version, unchanged: false, deployment: createDeployment(core, job, version, 'update') };
}

/** §1 v1.1: what became of the latest submitted version, when `spec` equals it and the engine rejected it. */
function rejectedAs(core: EngineCore, job: JobRecord, spec: JobSpec): RejectedVersion | null {
  const latest = job.versions[job.versionCount];
  const room = core.rooms.get(job.submitted);
  if (latest === undefined || room === undefined || !sameSpec(latest, spec)) return null;
  const d = room.view;
  if (!isRejected(d)) return null;
  return { version: job.versionCount, deployment: d.id, state: d.state!, reason: d.reason };
}

/** Failed (rolling back or not) or canceled: the engine did not keep this version. */
function isRejected(d: DeploymentView): boolean {
  return d.failedAt !== null || d.state === 'canceled';
}

export function onCommand(core: EngineCore, command: OperatorCommand): SubmitResult | undefined {
  const job = core.jobs.get(command.job);
  if (job === undefined) throw new CommandError('unknown_job', `no job ${command.job}; jobs are named namespace/name`);
  if (command.type === 'rollback') return onRollback(core, job, command.version);
  const room = latestOf(core, job);
  checkCommand(command.type, room.view.id, room.view.state ?? 'pending');
  send(core, room, { type: command.type, now: core.now, slots: slots(core) });
  return undefined;
}

function onRollback(core: EngineCore, job: JobRecord, version: number | undefined): SubmitResult {
  const target = version ?? rollbackDefault(job);
  if (target === null) {
    throw new CommandError(
      'no_completed_version',
      `job ${job.key} has no completed version other than the one it runs now (${job.current}); name a version: rollback ${job.key} VERSION`,
    );
  }
  if (!Number.isInteger(target) || target < 1 || target > job.versionCount) {
    throw new CommandError('unknown_version', `job ${job.key} has no version ${target}; versions are 1..${job.versionCount}`);
  }
  if (job.versions[target] === undefined) {
    throw new CommandError('forgotten_version', `job ${job.key} no longer keeps version ${target} (history is bounded, see historyLimit); submit its spec again`);
  }
  const latest = latestOf(core, job).view;
  if (target === job.current && (latest.state === 'completed' || latest.state === 'rolled_back')) {
    return { job: job.key, version: target, unchanged: true, deployment: null };
  }
  return { job: job.key, version: target, unchanged: false, deployment: createDeployment(core, job, target, 'rollback') };
}

/**
 * §7 v1.1: `rollback` without a version goes to the most recent completed
 * version other than the one the job runs now (`kubectl rollout undo`): after
 * a successful v2, v1; after rolling back to v1, v2 again.
 */
export function rollbackDefault(job: Pick<JobRecord, 'completed' | 'current'>): number | null {
  for (let i = job.completed.length - 1; i >= 0; i--) if (job.completed[i] !== job.current) return job.completed[i]!;
  return null;
}

/** A version's deployment completed: it becomes the rollback target and the latest completion (§6, §7). */
export function noteCompleted(job: JobRecord, version: number): void {
  job.lastCompleted = version;
  const completed = job.completed.filter((v) => v !== version);
  completed.push(version);
  // Only the last two can be the default: the most recent, or the one before it when the job runs the most recent.
  job.completed = completed.slice(-2);
}

/**
 * A new deployment of `version`: the job's active deployment is superseded
 * first, then the targets are taken from the fleet as it stands (§7). The
 * nodes the job's earlier deployments left on another version than the
 * rollback target are carried over, for a rollback to revert (§6 v1.1).
 */
function createDeployment(core: EngineCore, job: JobRecord, version: number, kind: DeploymentKind): string {
  const spec = job.versions[version]!;
  const id = `${job.key}#${++job.deployments}`;
  const fromVersion = kind === 'create' ? null : job.current;
  const previous = core.rooms.get(job.latest);
  if (previous !== undefined) send(core, previous, { type: 'supersede', by: id, now: core.now, slots: 0 });
  const carried = previous === undefined ? [] : carriedExposure(previous.view, job.lastCompleted);

  const match = matcherFor(core, job.key, spec);
  const nodes = core.nodes;
  const targetIndexes: number[] = [];
  for (let i = 0; i < nodes.count; i++) if (nodes.presentAndMatching(i, match)) targetIndexes.push(i);
  // §3 rollout order: by id (TimSort: one pass over a fleet that arrived in id order).
  targetIndexes.sort((a, b) => compareNodeIds(nodes.idOf(a), nodes.idOf(b)));
  const targets = targetIndexes.map((i) => nodes.idOf(i));
  const room = DeploymentRoom.create(
    { id, job: job.key, version, spec, kind, fromVersion, lastCompleted: job.lastCompleted, seq: core.deploymentSeq++, createdAt: core.now, targets, targetIndexes, carried },
    roomPorts(core, match),
  );
  core.rooms.set(id, room);
  job.latest = id;
  job.current = version;
  if (kind !== 'rollback') job.submitted = id;
  job.history.push(id);
  forgetHistory(core, job);
  send(core, room, { type: 'start', now: core.now, slots: slots(core) });
  return id;
}

/**
 * §7 v1.1 bounded history: ended deployments beyond the job's most recent
 * `historyLimit` are forgotten (room, timers, and the versions nobody needs
 * any more). Never an active deployment, the latest, the latest submission
 * (§1 v1.1 needs its fate) or the completed deployment a rollback returns to.
 */
function forgetHistory(core: EngineCore, job: JobRecord): void {
  if (job.history.length <= core.historyLimit) return;
  const keep = new Set(job.history.slice(-core.historyLimit));
  keep.add(job.latest).add(job.submitted);
  const targets = new Set(job.completed);
  for (let i = job.history.length - 1; i >= 0 && targets.size > 0; i--) {
    const d = core.rooms.get(job.history[i]!)!.view;
    if (d.state === 'completed' && targets.delete(d.version)) keep.add(d.id);
  }
  const kept: string[] = [];
  for (const id of job.history) {
    const room = core.rooms.get(id)!;
    if (keep.has(id) || !isTerminal(room.view.state ?? 'pending')) {
      kept.push(id);
      continue;
    }
    room.stop();
    core.rooms.delete(id);
    core.timers.forget(id);
  }
  job.history = kept;
  const needed = new Set<number>([job.current, job.versionCount, ...job.completed]);
  for (const id of kept) needed.add(core.rooms.get(id)!.view.version);
  for (const v of Object.keys(job.versions)) if (!needed.has(Number(v))) delete job.versions[Number(v)];
}

/** A saved job's specs by version, frozen copies (an array before bounded history: index = version - 1). */
export function versionsOf(saved: JobRecord): Record<number, JobSpec> {
  const old = saved.versions as JobSpec[] | Record<number, JobSpec>;
  const versions: Record<number, JobSpec> = {};
  if (Array.isArray(old)) old.forEach((spec, i) => (versions[i + 1] = frozenCopy(spec)));
  else for (const [v, spec] of Object.entries(old)) versions[Number(v)] = frozenCopy(spec);
  return versions;
}

/** A job as a snapshot holds it; snapshots written before bounded history hold versions as an array. */
export function restoreJob(core: EngineCore, saved: JobRecord): JobRecord {
  const versions = versionsOf(saved);
  const history = saved.history ?? [...core.rooms.values()].filter((r) => r.view.job === saved.key).sort((a, b) => a.view.seq - b.view.seq).map((r) => r.view.id);
  return {
    ...saved,
    versions,
    versionCount: saved.versionCount ?? Object.keys(versions).length,
    completed: saved.completed ?? (saved.lastCompleted === null ? [] : [saved.lastCompleted]),
    submitted: saved.submitted ?? history.findLast((id) => core.rooms.get(id)?.view.kind !== 'rollback') ?? '',
    history,
  };
}

/** A deployment's room restored from a snapshot. */
export function restoreRoom(core: EngineCore, snapshot: DeploymentSnapshot): void {
  const spec = core.jobs.get(snapshot.data.job)!.versions[snapshot.data.version]!;
  core.rooms.set(snapshot.data.id, DeploymentRoom.restore(snapshot, roomPorts(core, matcherFor(core, snapshot.data.job, spec))));
}

/** What a room asks of the shell: is a node eligible now, a node's index, does anyone listen to decisions. */
function roomPorts(core: EngineCore, match: NodePredicate): RoomPorts {
  return {
    eligible: (index) => core.nodes.presentAndMatching(index, match),
    indexOf: (id) => core.nodes.intern(id),
    findIndex: (id) => core.nodes.indexOf(id),
    explains: () => core.outbox.heard('decision'),
  };
}

export function matcherFor(core: EngineCore, job: string, spec: JobSpec): NodePredicate {
  const key = `${job}@${JSON.stringify(spec.selector)}`;
  let match = core.matchers.get(key);
  if (match === undefined) {
    match = compileSelector(spec.selector);
    core.matchers.set(key, match);
  }
  return match;
}

export function frozenCopy<T>(value: T): T {
  return deepFreeze(structuredClone(value));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
