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
 * the node leaves. Rooms find their node records by it (an array read), so a
 * report costs one lookup of its node id, here, and for the ids fleets are
 * named with (a prefix and a counter) that lookup is arithmetic (nodeIndex.ts).
 */
import type { DeploymentRoom, RoomEvent } from '../../machines/index.js';
import type { NodePredicate } from '../selector/match.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import type { EngineTimers } from './engineTimers.js';
import type { Outbox } from './outbox.js';
import { NodeIndex } from './nodeIndex.js';
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
  /** When it last joined the fleet, in arrivals counted by the engine: the fleet's order. */
  arrival: number;
}

export interface EngineCore {
  readonly outbox: Outbox;
  readonly timers: EngineTimers;
  /** The engine-wide cap on updating nodes (§7); 0: none. */
  readonly cap: number;
  /** Ended deployments kept per job (§7 v1.1 bounded history). */
  readonly historyLimit: number;
  /** The index of every node id ever known: in the fleet (`KnownNode.present`), removed, or only named by a restored deployment. */
  readonly ids: NodeIndex;
  /** Every node ever known, by index. */
  readonly known: KnownNode[];
  /** Arrivals in the fleet so far (`KnownNode.arrival`). */
  arrivals: number;
  /** A node the engine knew already (it left, or a restored deployment named it) joined: index order is no longer arrival order. */
  outOfOrder: boolean;
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
    ids: new NodeIndex(),
    known: [],
    arrivals: 0,
    outOfOrder: false,
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

/** The node of this id in the fleet. */
export function presentNode(core: EngineCore, id: string): KnownNode | undefined {
  const index = presentIndex(core, id);
  return index < 0 ? undefined : core.known[index];
}

/** The index of the node of this id in the fleet; -1 when it is not in it. */
export function presentIndex(core: EngineCore, id: string): number {
  const index = core.ids.indexOf(id);
  return index >= 0 && core.known[index]!.present ? index : -1;
}

/** The index of a node id, made (not in the fleet) when the engine has never seen it. */
export function internNode(core: EngineCore, id: string): number {
  const index = core.ids.indexOf(id);
  if (index >= 0) return index;
  const made = core.ids.add(id);
  core.known.push({ id, labels: {}, connected: false, index: made, present: false, arrival: -1 });
  return made;
}

/** The index of a node id the engine knows; -1 when it never saw it. */
export function findNode(core: EngineCore, id: string): number {
  return core.ids.indexOf(id);
}

/**
 * Puts a node not present in the fleet (at the end of the arrival order),
 * interned once. `index`: its id's index, when the caller looked it up already.
 */
export function addNode(core: EngineCore, node: FleetNode, index = core.ids.indexOf(node.id)): KnownNode {
  const arrival = core.arrivals++;
  if (index < 0) {
    const known = { id: node.id, labels: node.labels, connected: node.connected, index: core.ids.add(node.id), present: true, arrival };
    core.known.push(known);
    return known;
  }
  const known = core.known[index]!;
  core.outOfOrder = true;
  known.labels = node.labels;
  known.connected = node.connected;
  known.present = true;
  known.arrival = arrival;
  return known;
}

/** Takes a node out of the fleet; undefined when it was not in it. Its index stays its own. */
export function removeNode(core: EngineCore, id: string): KnownNode | undefined {
  const known = presentNode(core, id);
  if (known !== undefined) known.present = false;
  return known;
}

/** The nodes present, in order of arrival. */
export function fleetNodes(core: EngineCore): KnownNode[] {
  const nodes = core.known.filter((node) => node.present);
  return core.outOfOrder ? nodes.sort((a, b) => a.arrival - b.arrival) : nodes;
}
