/**
 * The deployment room: the only writer of one deployment's state. Its face
 * is one call, `send(event)`, which returns the effects the shell must apply,
 * in order (effects.ts). Events are everything that can concern a
 * deployment: its start, a routed health or execution report, one of its
 * timers firing, a node joining, leaving or disconnecting, an operator's
 * command, a newer deployment superseding it, free slots of the engine-wide
 * cap. Inside: per-node judging (judging.ts) feeds the statechart
 * (deployment.ts), whose actions are the steps of steps.ts; a node resolving
 * where that cannot change the phase is settled in place (resolveInPlace.ts).
 *
 * No I/O and no clock: each event carries `now` and the `slots` the cap
 * allows. The shell reads the state through `view` and never writes it.
 */
import { createActor, type Actor } from 'xstate';
import { newDeploymentData, type DeploymentData, type NewDeployment, type NodeRecord, type RoomPorts } from './context.js';
import { deploymentMachine, type DeploymentEvent, type Stamp } from './deployment.js';
import type { Effect } from './effects.js';
import { judgeExecution, judgeHealth, judgeNodeTimer, nodeDisconnected, nodeLeft, offerJoin, type ExecutionReading, type HealthReading, type Judged } from './judging.js';
import type { RolloutPolicy } from './policy.js';
import { phaseOf, resolveInPlace, type ResolvePhase } from './resolveInPlace.js';
import { deserializeDeployment, serializeDeployment, type DeploymentSnapshot } from './snapshot.js';
import { canaryGroupSize } from './steps.js';
import type { NodeFailureReason, NodeState, TimerKind } from './vocabulary.js';

export type RoomEvent = Stamp &
  (
    | { type: 'start' }
    // `index`: the shell's index of the node (RoomPorts.indexOf); -1 for a deployment's own timer.
    | { type: 'report.health'; report: HealthReading; index: number }
    | { type: 'report.execution'; report: ExecutionReading; index: number }
    | { type: 'timer'; kind: TimerKind; node: string | null; index: number }
    | { type: 'node.joined' | 'node.left' | 'node.disconnected'; node: string; index: number }
    | { type: 'pause' | 'resume' | 'promote' | 'abort' }
    | { type: 'supersede'; by: string }
    | { type: 'capacity' }
  );

/** The room's state as the shell may read it (never write it). */
export type DeploymentView = Readonly<Omit<DeploymentData, 'nodes' | 'order' | 'orderRecords' | 'counts' | 'failedNodes' | 'policy' | 'io'>> & {
  readonly nodes: ReadonlyMap<string, Readonly<NodeRecord>>;
  readonly order: readonly string[];
  readonly counts: Readonly<Record<NodeState, number>>;
  readonly failedNodes: readonly string[];
  readonly policy: Readonly<RolloutPolicy>;
};

export class DeploymentRoom implements Judged {
  private readonly d: DeploymentData;
  private readonly actor: Actor<typeof deploymentMachine>;
  /** How the machine's current state handles a node resolving (kept after each machine step). */
  private phase: ResolvePhase;

  /** A new deployment's room; its first event is `start`. */
  static create(deployment: NewDeployment, ports: RoomPorts): DeploymentRoom {
    return new DeploymentRoom(newDeploymentData(deployment, roomIo(ports)), ports);
  }

  /** A room restored from `snapshot()` at its machine's state. */
  static restore(snapshot: DeploymentSnapshot, ports: RoomPorts): DeploymentRoom {
    return new DeploymentRoom(deserializeDeployment(snapshot, roomIo(ports)), ports, snapshot);
  }

  private constructor(
    data: DeploymentData,
    private readonly ports: RoomPorts,
    restored?: DeploymentSnapshot,
  ) {
    this.actor =
      restored === undefined
        ? createActor(deploymentMachine, { input: data })
        : createActor(deploymentMachine, { snapshot: deploymentMachine.resolveState({ value: restored.machine, context: { d: data } }), input: data });
    this.actor.start();
    const snapshot = this.actor.getSnapshot();
    this.d = snapshot.context.d;
    this.phase = phaseOf(snapshot.value);
  }

  get view(): DeploymentView {
    return this.d;
  }

  /**
   * Hands the room one event; returns the effects to apply, in order. The
   * array is the room's own, valid until the next `send`.
   */
  send(event: RoomEvent): readonly Effect[] {
    const out = this.d.io.out;
    // Emptied by `pop`: `length = 0` drops the backing store, and the next event would allocate it again.
    while (out.length > 0) out.pop();
    const { now, slots } = event;
    switch (event.type) {
      case 'report.health':
        judgeHealth(this, this.d, event.report, event.index, now, slots);
        break;
      case 'report.execution':
        judgeExecution(this, this.d, event.report, event.index, now, slots);
        break;
      case 'timer':
        if (event.kind === 'queue' || event.kind === 'total') {
          this.step({ type: 'timeout', reason: event.kind === 'queue' ? 'queue_timeout' : 'total_timeout', now, slots });
        } else {
          judgeNodeTimer(this, this.d, event.kind, event.node!, event.index, now, slots);
        }
        break;
      case 'node.joined':
        offerJoin(this, this.d, event.node, event.index, now, slots);
        break;
      case 'node.left':
        nodeLeft(this, this.d, event.node, event.index, now, slots);
        break;
      case 'node.disconnected':
        nodeDisconnected(this.d, event.node, event.index);
        break;
      case 'start':
        out.push({ type: 'created', canaries: canaryGroupSize(this.d) });
        this.step(event);
        break;
      default:
        this.step(event);
    }
    return out;
  }

  /** The room's state as plain JSON: `DeploymentRoom.restore` continues exactly. */
  snapshot(): DeploymentSnapshot {
    return serializeDeployment(this.actor.getSnapshot().value, this.d);
  }

  stop(): void {
    this.actor.stop();
  }

  /** @internal (judging.ts) The machine takes the event, while it still runs. */
  step(event: DeploymentEvent): void {
    if (this.actor.getSnapshot().status !== 'active') return;
    this.d.io.explain = this.ports.explains();
    this.actor.send(event);
    this.phase = phaseOf(this.actor.getSnapshot().value);
  }

  /** @internal (judging.ts) An updating node resolved: settled in place when the phase cannot change, else by the machine. */
  resolve(node: string, record: NodeRecord, reason: NodeFailureReason | null, now: number, slots: number): void {
    this.d.io.explain = this.ports.explains();
    if (resolveInPlace(this.phase, this.d, node, record, reason, now, slots)) return;
    this.step(reason === null ? { type: 'node.stable', node, now, slots } : { type: 'node.failed', node, reason, now, slots });
  }
}

function roomIo(ports: RoomPorts): DeploymentData['io'] {
  return { out: [], eligible: ports.eligible, indexOf: ports.indexOf, findIndex: ports.findIndex, explain: true };
}
