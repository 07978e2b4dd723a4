/**
 * The state the engine's handlers share: the fleet, the jobs, one deployment
 * room per deployment, and the outbox and timers effects go out through.
 * `Engine` owns the one instance and passes it explicitly to the handler
 * modules (inventory, routing, deployments, effects, persistence): plain
 * functions of this state, no object per call. A deployment's own state is
 * its room's: the shell reads it through `room.view` and never writes it.
 *
 * Node ids are interned (knownNodes.ts): the first time the engine sees an
 * id it gets a dense index for as long as the engine lives, also once the
 * node leaves. Rooms find their node records by it (an array read), so a
 * report costs one lookup of its node id, here, and for the ids fleets are
 * named with (a prefix and a counter) that lookup is arithmetic (nodeIndex.ts).
 */
import type { DeploymentRoom, RoomEvent } from '../../machines/index.js';
import type { NodePredicate } from '../selector/match.js';
import type { JobSpec } from '../spec/types.js';
import type { EngineTimers } from './engineTimers.js';
import type { Outbox } from './outbox.js';
import { KnownNodes } from './knownNodes.js';
import type { JobRecord } from './snapshot.js';
import type { ExecutionReport, HealthReport, IgnoredReason } from './types.js';

type EventOf<T extends RoomEvent['type']> = Extract<RoomEvent, { type: T }>;

/**
 * One room event object per hot kind, refilled for each report or timer:
 * inputs are never handled re-entrantly and a room keeps no event, so the
 * hot path allocates nothing to hand a report over.
 */
export interface HotEvents {
  health: EventOf<'report.health'>;
  execution: EventOf<'report.execution'>;
  timer: EventOf<'timer'>;
}

export interface EngineCore {
  readonly outbox: Outbox;
  readonly timers: EngineTimers;
  /** The engine-wide cap on updating nodes (§7); 0: none. */
  readonly cap: number;
  /** Ended deployments kept per job (§7 v1.1 bounded history). */
  readonly historyLimit: number;
  /** Every node ever known, by index: the fleet (those present, in order of arrival: what the snapshot and the inventory list) and those gone. */
  readonly nodes: KnownNodes;
  readonly jobs: Map<string, JobRecord>;
  readonly rooms: Map<string, DeploymentRoom>;
  readonly matchers: Map<string, NodePredicate>;
  readonly ignoredReports: Record<IgnoredReason, number>;
  readonly events: HotEvents;
  /** The job the last report was for, and its latest room (routing.ts): reports come in runs for one job. */
  readonly route: { job: string; record: JobRecord | null; latest: string; room: DeploymentRoom | null };
  deploymentSeq: number;
  /** Clock time of the input being handled (the journal's time during replay). */
  now: number;
  /** A room got an event during this input: slots of the engine-wide cap may have to be offered. */
  roomTouched: boolean;
}

export function newEngineCore(outbox: Outbox, timers: EngineTimers, cap: number, historyLimit: number): EngineCore {
  return {
    outbox,
    timers,
    cap,
    historyLimit,
    nodes: new KnownNodes(),
    jobs: new Map(),
    rooms: new Map(),
    matchers: new Map(),
    ignoredReports: { stale_version: 0, unknown_node: 0, unknown_job: 0, duplicate: 0, not_updating: 0 },
    events: {
      health: { type: 'report.health', report: null as unknown as HealthReport, index: -1, now: 0, slots: 0 },
      execution: { type: 'report.execution', report: null as unknown as ExecutionReport, index: -1, now: 0, slots: 0 },
      timer: { type: 'timer', kind: 'deadline', node: null, index: -1, now: 0, slots: 0 },
    },
    route: { job: '', record: null, latest: '', room: null },
    deploymentSeq: 0,
    now: 0,
    roomTouched: false,
  };
}

export function latestOf(core: EngineCore, job: JobRecord): DeploymentRoom {
  return core.rooms.get(job.latest)!;
}

export function specOf(core: EngineCore, job: string, version: number): JobSpec {
  return core.jobs.get(job)!.versions[version]!;
}
