/**
 * The state the engine's handlers share: the fleet, the jobs, one deployment
 * room per deployment, and the outbox and timers effects go out through.
 * `Engine` owns the one instance and passes it explicitly to the handler
 * modules (inventory, routing, deployments, effects, persistence): plain
 * functions of this state, no object per call. A deployment's own state is
 * its room's: the shell reads it through `room.view` and never writes it.
 *
 * Node ids are interned: the first time the engine sees an id it gets a
 * dense index (`KnownNode.index`) for as long as the engine lives, also once
 * the node leaves. Rooms find their node records by it (an array read, not
 * a hash of a string in a million-entry Map), so a report costs one lookup
 * of its node id, here.
 */
import type { DeploymentRoom, RoomEvent } from '../../machines/index.js';
import type { NodePredicate } from '../selector/match.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import type { EngineTimers } from './engineTimers.js';
import type { Outbox } from './outbox.js';
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

/** A node the engine knows by id: in the fleet (`present`), or seen once and gone. Its index never changes. */
export interface KnownNode extends FleetNode {
  readonly index: number;
  present: boolean;
}

export interface EngineCore {
  readonly outbox: Outbox;
  readonly timers: EngineTimers;
  /** The engine-wide cap on updating nodes (§7); 0: none. */
  readonly cap: number;
  /** Ended deployments kept per job (§7 v1.1 bounded history). */
  readonly historyLimit: number;
  /** The fleet: the index of each node present, in order of arrival (what the snapshot and the inventory list). */
  readonly nodes: Map<string, number>;
  /** Every node ever known, by index. */
  readonly known: KnownNode[];
  /** The index of each known node not in the fleet: removed, or only named by a restored deployment. */
  readonly departed: Map<string, number>;
  readonly jobs: Map<string, JobRecord>;
  readonly rooms: Map<string, DeploymentRoom>;
  readonly matchers: Map<string, NodePredicate>;
  readonly ignoredReports: Record<IgnoredReason, number>;
  readonly events: HotEvents;
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
    nodes: new Map(),
    known: [],
    departed: new Map(),
    jobs: new Map(),
    rooms: new Map(),
    matchers: new Map(),
    ignoredReports: { stale_version: 0, unknown_node: 0, unknown_job: 0, duplicate: 0, not_updating: 0 },
    events: {
      health: { type: 'report.health', report: null as unknown as HealthReport, index: -1, now: 0, slots: 0 },
      execution: { type: 'report.execution', report: null as unknown as ExecutionReport, index: -1, now: 0, slots: 0 },
      timer: { type: 'timer', kind: 'deadline', node: null, index: -1, now: 0, slots: 0 },
    },
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

/** The node of this id in the fleet. */
export function presentNode(core: EngineCore, id: string): KnownNode | undefined {
  const index = core.nodes.get(id);
  return index === undefined ? undefined : core.known[index];
}

/** The index of a node id, made (departed, not in the fleet) when the engine has never seen it. */
export function internNode(core: EngineCore, id: string): number {
  const index = core.nodes.get(id) ?? core.departed.get(id);
  if (index !== undefined) return index;
  const made = core.known.length;
  core.known.push({ id, labels: {}, connected: false, index: made, present: false });
  core.departed.set(id, made);
  return made;
}

/** The index of a node id the engine knows; -1 when it never saw it. */
export function findNode(core: EngineCore, id: string): number {
  return core.nodes.get(id) ?? core.departed.get(id) ?? -1;
}

/** Puts a node not present in the fleet (at the end of the arrival order), interned once. */
export function addNode(core: EngineCore, node: FleetNode): KnownNode {
  // Loading a fleet, none has departed yet: no second lookup per node.
  const departed = core.departed.size === 0 ? undefined : core.departed.get(node.id);
  let known: KnownNode;
  if (departed === undefined) {
    known = { id: node.id, labels: node.labels, connected: node.connected, index: core.known.length, present: true };
    core.known.push(known);
  } else {
    core.departed.delete(node.id);
    known = core.known[departed]!;
    known.labels = node.labels;
    known.connected = node.connected;
    known.present = true;
  }
  core.nodes.set(node.id, known.index);
  return known;
}

/** Takes a node out of the fleet; false when it was not in it. Its index stays its own. */
export function removeNode(core: EngineCore, id: string): KnownNode | undefined {
  const index = core.nodes.get(id);
  if (index === undefined) return undefined;
  core.nodes.delete(id);
  core.departed.set(id, index);
  const known = core.known[index]!;
  known.present = false;
  return known;
}

/** The nodes present, in order of arrival. */
export function fleetNodes(core: EngineCore): KnownNode[] {
  const nodes: KnownNode[] = [];
  for (const index of core.nodes.values()) nodes.push(core.known[index]!);
  return nodes;
}
