/**
 * What the room asks its shell to do, returned by `DeploymentRoom.send` in
 * the order the shell must apply them: executor calls (`start`, `revert`,
 * `stop`), timers to arm and disarm (the room's node and deployment timers,
 * as absolute due times), and events to emit. The shell never decides: it
 * delivers.
 */
import type { NodeRecord } from './context.js';
import type { DeploymentState, IgnoredReason, NodeFailureReason, TimerKind } from './vocabulary.js';

export type Effect =
  /** The deployment exists: announce it with its canary group's size (0 outside canary). */
  | { type: 'created'; canaries: number }
  | { type: 'state'; state: DeploymentState; reason: string | null }
  | { type: 'start'; node: string; canary: boolean; attempt: number }
  | { type: 'stable'; node: string }
  | { type: 'failed'; node: string; reason: NodeFailureReason }
  /** §4: a stable node's later trouble. */
  | { type: 'degraded'; node: string }
  | { type: 'promoted'; auto: boolean }
  | { type: 'revert'; node: string; attempt: number }
  | { type: 'reverted'; node: string }
  | { type: 'revert_failed'; node: string }
  | { type: 'stop'; node: string; purpose: 'update' | 'revert'; attempt: number }
  /** A node timer names its node and carries its record (whose `timers` the shell keeps); a deployment timer has neither. */
  | { type: 'arm'; timer: TimerKind; node: string | null; record: NodeRecord | null; at: number }
  | { type: 'disarm'; timer: TimerKind; node: string | null; record: NodeRecord | null }
  | { type: 'clearNodeTimers'; node: string; record: NodeRecord }
  | { type: 'decision'; action: string; reason: string; node?: string }
  /** The report about `node` changed nothing (§4: counted). */
  | { type: 'ignored'; node: string; reason: IgnoredReason };
