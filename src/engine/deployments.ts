/**
 * Jobs and their deployments (§1, §7): a changed spec or a rollback
 * becomes a new deployment, superseding the job's active one and targeting
 * the fleet as it stands; operator commands go to the job's latest
 * deployment. Each deployment is its own room (machines/room.ts).
 */
import { DeploymentRoom, type DeploymentSnapshot, type RoomPorts } from '../../machines/index.js';
import { compileSelector, type NodePredicate } from '../selector/match.js';
import { rolloutOrder } from '../selector/order.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { checkCommand } from './commandRules.js';
import { send, slots } from './effects.js';
import { latestOf, type EngineCore } from './engineCore.js';
import { CommandError } from './errors.js';
import { sameSpec } from './sameSpec.js';
import type { JobRecord } from './snapshot.js';
import type { DeploymentKind, OperatorCommand, SubmitResult } from './types.js';

export function jobKey(spec: JobSpec): string {
  return `${spec.namespace}/${spec.name}`;
}

export function onSubmit(core: EngineCore, spec: JobSpec): SubmitResult {
  const key = jobKey(spec);
  const job = core.jobs.get(key);
  if (job !== undefined && sameSpec(job.versions[job.current - 1]!, spec)) {
    return { job: key, version: job.current, unchanged: true, deployment: null };
  }
  const frozen = frozenCopy(spec);
  if (job === undefined) {
    const created: JobRecord = { key, versions: [frozen], current: 1, lastCompleted: null, deployments: 0, latest: '' };
    core.jobs.set(key, created);
    return { job: key, version: 1, unchanged: false, deployment: createDeployment(core, created, 1, 'create') };
  }
  job.versions.push(frozen);
  const version = job.versions.length;
  return { job: key, version, unchanged: false, deployment: createDeployment(core, job, version, 'update') };
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
  const target = version ?? job.lastCompleted;
  if (target === null) {
    throw new CommandError('no_completed_version', `job ${job.key} has no completed version to roll back to; name a version: rollback ${job.key} VERSION`);
  }
  if (!Number.isInteger(target) || target < 1 || target > job.versions.length) {
    throw new CommandError('unknown_version', `job ${job.key} has no version ${target}; versions are 1..${job.versions.length}`);
  }
  const latest = latestOf(core, job).view;
  if (target === job.current && (latest.state === 'completed' || latest.state === 'rolled_back')) {
    return { job: job.key, version: target, unchanged: true, deployment: null };
  }
  return { job: job.key, version: target, unchanged: false, deployment: createDeployment(core, job, target, 'rollback') };
}

/**
 * A new deployment of `version`: the job's active deployment is superseded
 * first, then the targets are taken from the fleet as it stands (§7).
 */
function createDeployment(core: EngineCore, job: JobRecord, version: number, kind: DeploymentKind): string {
  const spec = job.versions[version - 1]!;
  const id = `${job.key}#${++job.deployments}`;
  const fromVersion = kind === 'create' ? null : job.current;
  const previous = core.rooms.get(job.latest);
  if (previous !== undefined) send(core, previous, { type: 'supersede', by: id, now: core.now, slots: 0 });

  const match = matcherFor(core, job.key, spec);
  const eligible: FleetNode[] = [];
  core.nodes.forEach((node) => {
    if (match(node)) eligible.push(node);
  });
  const targets = rolloutOrder(eligible).map((node) => node.id);
  const room = DeploymentRoom.create(
    { id, job: job.key, version, spec, kind, fromVersion, lastCompleted: job.lastCompleted, seq: core.deploymentSeq++, createdAt: core.now, targets },
    roomPorts(core, match),
  );
  core.rooms.set(id, room);
  job.latest = id;
  job.current = version;
  send(core, room, { type: 'start', now: core.now, slots: slots(core) });
  return id;
}

/** A deployment's room restored from a snapshot. */
export function restoreRoom(core: EngineCore, snapshot: DeploymentSnapshot): void {
  const spec = core.jobs.get(snapshot.data.job)!.versions[snapshot.data.version - 1]!;
  core.rooms.set(snapshot.data.id, DeploymentRoom.restore(snapshot, roomPorts(core, matcherFor(core, snapshot.data.job, spec))));
}

/** What a room asks of the shell: is a node eligible now, does anyone listen to decisions. */
function roomPorts(core: EngineCore, match: NodePredicate): RoomPorts {
  return {
    eligible: (id) => {
      const node = core.nodes.get(id);
      return node !== undefined && match(node);
    },
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
