/**
 * The parent's side of the replica processes (replica.ts): starts them,
 * hears what they say, and sends them the agents' inputs. An input goes to
 * every live replica, as agents behind a load balancer would retry replica
 * after replica: only the leader takes it, and it counts as delivered once
 * one replica acknowledged it (after `committed()`); the others refuse
 * (`nack`). A replica that is frozen does not answer: after `timeoutMs` the
 * input counts as not delivered and its sender tries again later.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { DeploymentStatus, NodeInventory } from '../../src/engine/index.js';
import type { FromReplica, InputCall, ToReplica } from './protocol.js';

export class ReplicaProcess {
  readonly child: ChildProcess;
  /** The epoch it leads in; null while it stands by (or once it lost the lease, or died). */
  epoch: number | null = null;
  alive = true;
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    file: string,
    env: Record<string, string>,
  ) {
    this.child = fork(file, [], { env: { ...process.env, ...env, REPLICA_NAME: name }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  send(message: ToReplica): void {
    if (this.alive && this.child.connected) this.child.send(message, () => undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }
}

interface Pending {
  waiting: Set<ReplicaProcess>;
  resolve(answer: Extract<FromReplica, { type: 'ack' | 'state' }> | null): void;
}

export class ReplicaSet {
  readonly replicas: ReplicaProcess[] = [];
  private readonly listeners: Array<(replica: ReplicaProcess, message: FromReplica) => void> = [];
  private readonly senders: Array<(message: ToReplica) => void> = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** `file`: the compiled replica.js; `env`: DATABASE_URL and the lease settings. */
  constructor(
    private readonly file: string,
    private readonly env: Record<string, string>,
    private readonly timeoutMs = 2000,
  ) {}

  /** Every message of every replica, in the order each replica sent them. */
  onMessage(listener: (replica: ReplicaProcess, message: FromReplica) => void): void {
    this.listeners.push(listener);
  }

  /** Every input and query as it goes out (its `id` is the one its `ack` or `nack` carries). */
  onSend(listener: (message: ToReplica) => void): void {
    this.senders.push(listener);
  }

  spawn(name: string): ReplicaProcess {
    const replica = new ReplicaProcess(name, this.file, this.env);
    this.replicas.push(replica);
    replica.child.on('message', (message: FromReplica) => this.heard(replica, message));
    void replica.exited.then(() => {
      replica.alive = false;
      replica.epoch = null;
      for (const [id, pending] of this.pending) this.refused(id, pending, replica);
    });
    return replica;
  }

  get live(): ReplicaProcess[] {
    return this.replicas.filter((replica) => replica.alive);
  }

  /** The live replica that says it leads in the highest epoch (a frozen one may still think so). */
  get leader(): ReplicaProcess | undefined {
    return this.live.filter((r) => r.epoch !== null).sort((a, b) => b.epoch! - a.epoch!)[0];
  }

  /** The first acknowledgement, or null when every replica refused or none answered in time. */
  input(call: InputCall, ...args: unknown[]): Promise<Extract<FromReplica, { type: 'ack' }> | null> {
    return this.ask((id) => ({ type: 'input', id, call, args })) as Promise<Extract<FromReplica, { type: 'ack' }> | null>;
  }

  /** The leader's view of every deployment and node, or null without a leader. */
  query(): Promise<{ epoch: number; deployments: DeploymentStatus[]; nodes: NodeInventory[] } | null> {
    return this.ask((id) => ({ type: 'query', id })) as Promise<Extract<FromReplica, { type: 'state' }> | null>;
  }

  /** SIGTERM to every live replica (the leader snapshots and releases the lease), then waits for them to exit. */
  async stopAll(): Promise<void> {
    for (const replica of this.live) replica.child.kill('SIGTERM');
    await Promise.all(this.replicas.map((replica) => replica.exited));
  }

  private ask(message: (id: number) => ToReplica): Promise<Extract<FromReplica, { type: 'ack' | 'state' }> | null> {
    const id = ++this.nextId;
    const sent = message(id);
    for (const listener of this.senders) listener(sent);
    const targets = this.live.filter((replica) => replica.child.connected);
    if (targets.length === 0) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, null), this.timeoutMs);
      this.pending.set(id, {
        waiting: new Set(targets),
        resolve: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      });
      for (const replica of targets) replica.send(sent);
    });
  }

  private heard(replica: ReplicaProcess, message: FromReplica): void {
    if (message.type === 'leading') replica.epoch = message.epoch;
    if (message.type === 'lost' || message.type === 'standby') replica.epoch = null;
    if (message.type === 'ack' || message.type === 'state') this.settle(message.id, message);
    if (message.type === 'nack') {
      const pending = this.pending.get(message.id);
      if (pending !== undefined) this.refused(message.id, pending, replica);
    }
    for (const listener of this.listeners) listener(replica, message);
  }

  private refused(id: number, pending: Pending, replica: ReplicaProcess): void {
    pending.waiting.delete(replica);
    if (pending.waiting.size === 0) this.settle(id, null);
  }

  private settle(id: number, answer: Extract<FromReplica, { type: 'ack' | 'state' }> | null): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    pending.resolve(answer);
  }
}
