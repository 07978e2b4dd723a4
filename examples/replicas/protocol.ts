/**
 * What a replica process (replica.ts) and its parent (the supervisor in
 * ../replicas.ts, the failover test and bench) say to each other over the
 * IPC channel. The channel stands for the network between an orchestrator
 * and its edge agents: executor calls go out, agents' inputs come in.
 */
import type { DeploymentStatus, ExecutionRequest, Executor, NodeInventory } from '../../src/engine/index.js';

export type StopRequest = Parameters<Executor['stop']>[0];

/** Engine inputs a parent may send; each is acknowledged once `engine.committed()` resolved. */
export type InputCall = 'upsertNodes' | 'submit' | 'reportExecution' | 'reportHealth' | 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

export type ToReplica =
  | { type: 'input'; id: number; call: InputCall; args: unknown[] }
  /** The leader answers with `state`; any other replica with `nack`. */
  | { type: 'query'; id: number };

/** `at`: wall-clock ms with sub-millisecond precision (`performance.timeOrigin + performance.now()`), comparable across processes of one host. */
export type FromReplica =
  | { type: 'standby'; holder: string; at: number }
  /** `grantedAt`: when the lease was granted; `at`: when the restore was done and the replica began to act. */
  | { type: 'leading'; holder: string; epoch: number; grantedAt: number; at: number }
  | { type: 'lost'; holder: string; epoch: number; reason: string; at: number }
  | { type: 'start'; request: ExecutionRequest; at: number }
  | { type: 'stop'; request: StopRequest; at: number }
  | { type: 'event'; name: string; event: Record<string, unknown>; epoch: number; at: number }
  | { type: 'ack'; id: number; epoch: number; result: unknown; at: number }
  | { type: 'nack'; id: number; reason: string; at: number }
  | { type: 'state'; id: number; epoch: number; deployments: DeploymentStatus[]; nodes: NodeInventory[] };

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
