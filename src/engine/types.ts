/**
 * Public types of the engine: its inputs, its events, its status answers. The
 * deployment room's vocabulary (states, reasons, statuses, timer kinds) is
 * defined in `machines/vocabulary.ts` and re-exported here.
 * Field names of events follow the trace of contract section 8 (public interface:
 * add fields freely, never rename or remove one).
 */
import type { DeploymentKind, DeploymentState, ExecutionStatus, IgnoredReason, NodeFailureReason, TimerKind } from '../../machines/vocabulary.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';

export type { DeploymentKind, DeploymentState, NodeFailureReason, TimerKind, ExecutionStatus, IgnoredReason } from '../../machines/vocabulary.js';

/** Every input the engine accepts; each is journaled before it is acted on. */
export type EngineInput =
  | { type: 'submit'; spec: JobSpec; retry?: true }
  | { type: 'node.upsert'; node: FleetNode }
  | { type: 'node.remove'; node: string }
  | { type: 'node.connected'; node: string; connected: boolean }
  | { type: 'report.execution'; report: ExecutionReport }
  | { type: 'report.health'; report: HealthReport }
  | { type: 'command'; command: OperatorCommand }
  /** One of the engine's timers fired (journaled so that replay handles it in the same order). */
  | { type: 'timer'; deployment: string; kind: TimerKind; node: string | null };

export interface ExecutionReport {
  node: string;
  /** `namespace/name`. */
  job: string;
  version: number;
  /** started: the execution runs; succeeded / failed: a run-to-completion job ended, or the execution broke. */
  status: ExecutionStatus;
}

export interface HealthReport {
  node: string;
  job: string;
  version: number;
  healthy: boolean;
  error_rate?: number;
}

export type OperatorCommand =
  | { type: 'pause'; job: string }
  | { type: 'resume'; job: string }
  | { type: 'promote'; job: string }
  | { type: 'abort'; job: string }
  | { type: 'rollback'; job: string; version?: number };

/** The engine's whole state as plain JSON: `JSON.parse(JSON.stringify(s))` restores it exactly. */
export type EngineSnapshot = { format: 1; [key: string]: unknown };

/**
 * Events, one per trace type (section 8) plus decisions. `at` is clock ms.
 * `seq` (§7a) only grows: an event delivered again after a crash has the same
 * `seq`, so a listener can tell a repeat. `decision` (an explanation) has none
 * and is not delivered again.
 */
export interface EngineEvents {
  'deployment.created': (e: { seq: number; at: number; deployment: string; job: string; kind: DeploymentKind; from_version: number | null; to_version: number; strategy: string; targeted: number; canaries: number }) => void;
  'deployment.state': (e: { seq: number; at: number; deployment: string; state: DeploymentState; reason?: string }) => void;
  'deployment.promoted': (e: { seq: number; at: number; deployment: string; auto: boolean }) => void;
  'node.started': (e: { seq: number; at: number; deployment: string; node: string; version: number; canary: boolean }) => void;
  'node.stable': (e: { seq: number; at: number; deployment: string; node: string; version: number }) => void;
  'node.failed': (e: { seq: number; at: number; deployment: string; node: string; version: number; reason: NodeFailureReason }) => void;
  'node.degraded': (e: { seq: number; at: number; deployment: string; node: string; version: number }) => void;
  'node.reverting': (e: { seq: number; at: number; deployment: string; node: string; version: number }) => void;
  'node.reverted': (e: { seq: number; at: number; deployment: string; node: string; version: number }) => void;
  'node.revert_failed': (e: { at: number; deployment: string; node: string; version: number }) => void;
  /** Why the engine did what it did: every start, promotion, failure and rollback carries a reason. */
  decision: (e: { at: number; deployment: string; action: string; reason: string; node?: string }) => void;
  /** A report that changed nothing: stale version, unknown node or job, duplicate. */
  'report.ignored': (e: { seq: number; at: number; node: string; job: string; reason: IgnoredReason }) => void;
  /**
   * §7a "One leader": this replica lost its lease (`reason`: `expired`,
   * `superseded`, `not_leader`); it has stopped acting and takes no more input.
   * Sent straight to the listeners, outside the event sequence.
   */
  'leadership.lost': (e: { at: number; epoch: number; holder: string; reason: string; message: string }) => void;
  /** §7a: something outside the engine failed and the engine carried on: a listener or the executor threw, or a journal entry was quarantined. */
  error: (e: EngineError) => void;
}

export interface EngineError {
  at: number;
  /** `listener`: a listener threw (`event` names what it heard); `executor`: a `start`/`stop` call threw; `journal`: recovery skipped entry `entry`. */
  source: 'listener' | 'executor' | 'journal' | 'store';
  event?: string;
  /** Index of the quarantined journal entry, from the oldest replayed. */
  entry?: number;
  error: unknown;
  message: string;
}

export interface DeploymentStatus {
  id: string;
  job: string;
  kind: DeploymentKind;
  from_version: number | null;
  to_version: number;
  strategy: string;
  state: DeploymentState;
  /** Why the deployment is in its state, when there is a reason (superseded, aborted, total_timeout, failure_rule ...). */
  reason: string | null;
  created_at: number;
  /** When the deployment failed (failure rule, abort, timeout); null when it did not. */
  failed_at: number | null;
  ended_at: number | null;
  targeted: number;
  canary_nodes: string[];
  promoted: boolean;
  counts: {
    pending: number;
    updating: number;
    stable: number;
    failed: number;
    degraded: number;
    reverting: number;
    reverted: number;
    revert_failed: number;
    /** Targeted, never started (passed over while not eligible, or the deployment ended first). */
    untouched: number;
    /** Still updating when the deployment ended without reverting it: the execution was stopped. */
    stopped: number;
    /** Left the fleet while updating: dropped from the rollout, not judged. */
    removed: number;
  };
  failed_nodes: string[];
  /** The version a rollback goes (or went) to; null when there is none. */
  rollback_target: number | null;
  /** How much of the failure budget is used: failed nodes against both limits. */
  budget: { failed: number; group: number; max_failed_nodes: number; max_failed_nodes_percent: number };
  /** Largest number of nodes updating at once so far. */
  max_in_flight: number;
}

/** `engine.nodes()`: a node of the inventory and, per job (`namespace/name`), the version it should run (see `inventoryOf`). */
export interface NodeInventory {
  id: string;
  labels: Record<string, string>;
  connected: boolean;
  versions: Record<string, number>;
}

export interface SubmitResult {
  job: string;
  version: number;
  unchanged: boolean;
  /** The deployment this submission started; null when unchanged. */
  deployment: string | null;
  /**
   * §1 v1.1: set when the spec equals the latest submitted version and the
   * engine rejected that version (failed, rolled back or canceled): which
   * version, its deployment and what became of it. Nothing started; submit
   * with `{ retry: true }` to deploy it again as a new version.
   */
  rejected?: RejectedVersion;
}

export interface RejectedVersion {
  version: number;
  deployment: string;
  /** `failed`, `rolling_back`, `rolled_back` or `canceled`. */
  state: DeploymentState;
  /** Why it failed or was canceled (failure_rule, aborted, superseded ...). */
  reason: string | null;
}

export interface SubmitOptions {
  /** Deploy a spec the engine rejected (§1 v1.1) again, as a new version. */
  retry?: boolean;
}

export interface EngineOptions {
  /** Engine-wide cap on concurrent node updates across deployments (0 or absent = none); `priority` orders who gets a slot. */
  maxConcurrentUpdates?: number;
  /** With a store: inputs between two compactions of the journal into a snapshot (default 10,000). */
  compactEvery?: number;
  /** Listens on `error` from the start, so errors found while recovering from a store (quarantined entries) are heard too. */
  onError?: (e: EngineError) => void;
  /** With a store that keeps one: how often (real ms) it records that the engine is alive (default 1000; 0: never). Recovery counts downtime from the last record. */
  heartbeatMs?: number;
  /**
   * §7 v1.1: ended deployments kept per job, most recent first (default 10,
   * an integer >= 1); older ones are forgotten from memory and the snapshot,
   * except an active one, the latest submission and the one a rollback
   * returns to.
   */
  historyLimit?: number;
  /**
   * How inputs become durable (§7a write-ahead either way: nothing an input
   * decided goes out before it is durable). `each` (the default with a
   * synchronous store): every engine call returns after its input is written.
   * `group`: inputs that arrive in the same turn of the event loop share one
   * write (one fsync); `await engine.committed()` before acknowledging them.
   * An asynchronous store (`openReplica`) always groups.
   */
  commit?: 'each' | 'group';
}
