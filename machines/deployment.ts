/**
 * The lifecycle of one deployment (contract §5-§7) as an XState v5 statechart.
 *
 * The heart of the deployment room (room.ts). The machine sees a few events
 * per node (stable, failed, reverted), never raw reports: the room's per-node
 * judging (judging.ts) turns those into `node.stable` / `node.failed`.
 * A node resolving where that cannot change the state is settled by the room
 * with the same steps, without a macrostep (resolveInPlace.ts): keep the two
 * in step when `judging` or `completed` changes.
 * It does no I/O and reads no clock: every event carries `now` and the
 * `slots` the engine-wide cap allows; actions mutate the deployment's data
 * (`context.d`) in place and leave effects in `d.io.out`. Timers are data (absolute due times
 * armed through effects), not `after`, so they survive persistence.
 *
 *   created -> live.pending -> live.in_progress.{canary -> awaiting_promotion -> rolling} -> completed
 *   live.* <-> live.paused
 *   live.* -> failing -> rolling_back -> rolled_back | failed
 *   live.*, rolling_back -> canceled (superseded)
 */
import { and, setup } from 'xstate';
import type { DeploymentData, ResumeTarget } from './context.js';
import { NO_CANARY_EVIDENCE } from './lifecycle.js';
import * as step from './steps.js';
import type { NodeFailureReason } from './vocabulary.js';

/** What every event into a deployment carries: when, and how many starts the engine-wide cap allows. */
export interface Stamp {
  /** Clock ms of the input being handled. */
  now: number;
  /** Node starts the engine-wide cap allows now (Infinity when there is no cap). */
  slots: number;
}

export type DeploymentEvent = Stamp &
  (
    | { type: 'start' }
    | { type: 'node.joined'; node: string }
    | { type: 'node.left'; node: string }
    | { type: 'node.stable'; node: string }
    | { type: 'node.failed'; node: string; reason: NodeFailureReason }
    | { type: 'node.reverted'; node: string }
    | { type: 'node.revert_failed'; node: string }
    | { type: 'capacity' }
    | { type: 'pause' }
    | { type: 'resume' }
    | { type: 'promote' }
    | { type: 'abort' }
    | { type: 'supersede'; by: string }
    | { type: 'timeout'; reason: 'queue_timeout' | 'total_timeout' }
  );

type Limit = { upTo: 'canaries' | 'all' };

function nodeOf(event: DeploymentEvent): string {
  return 'node' in event ? event.node : '';
}

function failureReason(event: DeploymentEvent): string {
  if (event.type === 'abort') return 'aborted';
  if (event.type === 'timeout') return event.reason;
  return 'failure_rule';
}

/**
 * The machine's context holds the deployment's data by reference. XState
 * copies the context with `Object.assign({}, ...)` when it assigns the
 * initial one; a copy of DeploymentData's 34 properties would be a
 * dictionary-mode object, each property read a hash lookup on the hot path.
 * A one-property wrapper copies cheaply and `d` stays the fast object the
 * room built.
 */
export interface RoomContext {
  d: DeploymentData;
}

export const deploymentMachine = setup({
  types: {
    context: {} as RoomContext,
    events: {} as DeploymentEvent,
    input: {} as DeploymentData,
  },
  guards: {
    hasTargets: ({ context: { d } }) => d.targeted > 0,
    isCanary: ({ context: { d } }) => d.policy.strategy === 'canary',
    autoPromote: ({ context: { d } }) => d.policy.autoPromote,
    // §5 v1.1: without a stable canary the group is never done: the deployment waits (for a joining node, or an abort).
    canariesResolved: ({ context: { d } }) => step.canariesResolved(d) && step.hasCanaryEvidence(d),
    lacksEvidence: ({ context: { d } }) => d.reason !== NO_CANARY_EVIDENCE && step.canariesResolved(d) && !step.hasCanaryEvidence(d),
    allResolved: ({ context: { d } }) => d.cursor >= d.order.length && d.counts.updating === 0,
    failureBreaksRule: ({ context: { d } }) => step.oneMoreFailureBreaksRule(d),
    willRollBack: ({ context: { d } }) => d.rollbackTarget !== null && (step.exposedCount(d) > 0 || d.carried.length > 0),
    revertsDone: ({ context: { d } }) => d.counts.reverting === 0,
    resumesTo: ({ context: { d } }, params: { state: ResumeTarget }) => d.resumeTo === params.state,
  },
  actions: {
    armTimeouts: ({ context: { d } }) => step.armTimeouts(d),
    announce: ({ context: { d } }, params: { state: 'pending' | 'in_progress' | 'awaiting_promotion' | 'paused' }) =>
      step.announceState(d, params.state, params.state === 'pending' ? 'no_eligible_node' : null),
    fixCanaryGroup: ({ context: { d } }) => step.fixCanaryGroup(d),
    fill: ({ context: { d }, event }, params: Limit) =>
      step.fillWindow(d, event.now, event.slots, params.upTo),
    appendNode: ({ context: { d }, event }) => step.appendNode(d, nodeOf(event)),
    startLateNode: ({ context: { d }, event }) => step.startLateNode(d, nodeOf(event), event.now),
    markStable: ({ context: { d }, event }) => step.markStable(d, nodeOf(event)),
    markFailed: ({ context: { d }, event }) => {
      if (event.type === 'node.failed') step.markFailed(d, event.node, event.reason);
    },
    dropNode: ({ context: { d }, event }) => step.dropNode(d, nodeOf(event)),
    promote: ({ context: { d } }, params: { auto: boolean }) => step.promote(d, params.auto),
    awaitEvidence: ({ context: { d } }) => step.awaitEvidence(d),
    awaitPromotion: ({ context: { d } }) =>
      d.io.out.push({ type: 'decision', action: 'await_promotion', reason: 'every canary resolved and the failure rule holds; waiting for an operator promote' }),
    pause: ({ context: { d }, event }, params: { resumeTo: ResumeTarget }) => step.pause(d, event.now, params.resumeTo),
    resume: ({ context: { d }, event }) => step.resume(d, event.now),
    recordFailure: ({ context: { d }, event }) => step.recordFailure(d, event.now, failureReason(event)),
    beginRollback: ({ context: { d }, event }) => step.beginRollback(d, event.now),
    explainNoRollback: ({ context: { d } }) => step.explainNoRollback(d),
    markReverted: ({ context: { d }, event }) => step.markReverted(d, nodeOf(event), event.type === 'node.reverted'),
    complete: ({ context: { d }, event }) => {
      d.io.out.push({ type: 'decision', action: 'complete', reason: 'every targeted node resolved and the failure rule holds' });
      step.announceState(d, 'completed', null);
      step.end(d, event.now);
    },
    endFailed: ({ context: { d }, event }) => {
      step.stopInFlight(d, 'deployment failed without rollback');
      step.end(d, event.now);
    },
    endRolledBack: ({ context: { d }, event }) => {
      step.announceState(d, 'rolled_back', d.reason);
      step.end(d, event.now);
    },
    cancel: ({ context: { d }, event }) => {
      const by = event.type === 'supersede' ? event.by : 'a newer deployment';
      d.io.out.push({ type: 'decision', action: 'cancel', reason: `superseded by ${by}` });
      step.announceState(d, 'canceled', 'superseded');
      step.stopInFlight(d, `superseded by ${by}`);
      step.end(d, event.now);
    },
    retire: ({ context: { d }, event }) => {
      const by = event.type === 'supersede' ? event.by : 'a newer deployment';
      step.stopInFlight(d, `superseded by ${by}`);
    },
  },
}).createMachine({
  id: 'deployment',
  context: ({ input }) => ({ d: input }),
  initial: 'created',
  states: {
    created: {
      on: {
        start: [
          { guard: 'hasTargets', target: 'live.in_progress', actions: 'armTimeouts' },
          { target: 'live.pending', actions: 'armTimeouts' },
        ],
      },
    },
    live: {
      on: {
        abort: '#deployment.failing',
        timeout: '#deployment.failing',
        supersede: '#deployment.canceled',
      },
      initial: 'pending',
      states: {
        pending: {
          entry: { type: 'announce', params: { state: 'pending' } },
          on: {
            'node.joined': { target: 'in_progress', actions: 'appendNode' },
            pause: { target: 'paused', actions: { type: 'pause', params: { resumeTo: 'pending' } } },
          },
        },
        in_progress: {
          entry: 'fixCanaryGroup',
          initial: 'routing',
          states: {
            routing: {
              always: [{ guard: 'isCanary', target: 'canary' }, { target: 'rolling' }],
            },
            canary: {
              entry: [
                { type: 'announce', params: { state: 'in_progress' } },
                { type: 'fill', params: { upTo: 'canaries' } },
              ],
              always: [
                { guard: and(['canariesResolved', 'autoPromote']), target: 'rolling', actions: { type: 'promote', params: { auto: true } } },
                { guard: 'canariesResolved', target: 'awaiting_promotion', actions: 'awaitPromotion' },
                { guard: 'lacksEvidence', actions: 'awaitEvidence' },
              ],
              on: {
                ...judging({ upTo: 'canaries' }),
                pause: { target: '#deployment.live.paused', actions: { type: 'pause', params: { resumeTo: 'canary' } } },
              },
            },
            awaiting_promotion: {
              entry: { type: 'announce', params: { state: 'awaiting_promotion' } },
              on: {
                ...judging(null),
                promote: { target: 'rolling', actions: { type: 'promote', params: { auto: false } } },
                pause: { target: '#deployment.live.paused', actions: { type: 'pause', params: { resumeTo: 'awaiting_promotion' } } },
              },
            },
            rolling: {
              entry: [
                { type: 'announce', params: { state: 'in_progress' } },
                { type: 'fill', params: { upTo: 'all' } },
              ],
              always: { guard: 'allResolved', target: '#deployment.completed', actions: 'complete' },
              on: {
                ...judging({ upTo: 'all' }),
                pause: { target: '#deployment.live.paused', actions: { type: 'pause', params: { resumeTo: 'rolling' } } },
              },
            },
          },
        },
        // §7: no new node starts; nodes updating keep being judged and the failure rule applies.
        paused: {
          entry: { type: 'announce', params: { state: 'paused' } },
          on: {
            ...judging(null),
            resume: [
              { guard: and(['hasTargets', { type: 'resumesTo', params: { state: 'pending' as const } }]), target: 'in_progress', actions: 'resume' },
              { guard: { type: 'resumesTo', params: { state: 'pending' } }, target: 'pending', actions: 'resume' },
              { guard: { type: 'resumesTo', params: { state: 'canary' } }, target: 'in_progress.canary', actions: 'resume' },
              { guard: { type: 'resumesTo', params: { state: 'awaiting_promotion' } }, target: 'in_progress.awaiting_promotion', actions: 'resume' },
              { target: 'in_progress.rolling', actions: 'resume' },
            ],
          },
        },
      },
    },
    failing: {
      entry: 'recordFailure',
      always: [
        { guard: 'willRollBack', target: 'rolling_back' },
        { target: 'failed', actions: 'explainNoRollback' },
      ],
    },
    rolling_back: {
      entry: 'beginRollback',
      always: { guard: 'revertsDone', target: 'rolled_back' },
      on: {
        'node.reverted': { actions: 'markReverted' },
        'node.revert_failed': { actions: 'markReverted' },
        supersede: 'canceled',
      },
    },
    failed: { type: 'final', entry: 'endFailed' },
    rolled_back: { type: 'final', entry: 'endRolledBack' },
    canceled: { type: 'final', entry: 'cancel' },
    // Not final: a pipeline node joining after completion is still updated and judged here.
    completed: {
      on: {
        'node.joined': { actions: 'startLateNode' },
        'node.stable': { actions: 'markStable' },
        'node.failed': { actions: 'markFailed' },
        'node.left': { actions: 'dropNode' },
        supersede: { actions: 'retire' },
      },
    },
  },
});

/**
 * The node events every live state handles: judging continues in every live
 * state (paused and awaiting_promotion included); only the states that may
 * start nodes refill the window (`limit`), and §6 is checked on each failure.
 */
function judging(limit: Limit | null) {
  const fill = limit === null ? [] : [{ type: 'fill' as const, params: limit }];
  return {
    'node.stable': { actions: ['markStable' as const, ...fill] },
    'node.failed': [
      { guard: 'failureBreaksRule' as const, target: '#deployment.failing', actions: 'markFailed' as const },
      { actions: ['markFailed' as const, ...fill] },
    ],
    'node.left': { actions: ['dropNode' as const, ...fill] },
    'node.joined': { actions: ['appendNode' as const, ...fill] },
    capacity: { actions: fill },
  };
}
