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
 * `slots` the engine-wide cap allows; actions mutate the context in place and
 * leave effects in `context.io.out`. Timers are data (absolute due times
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

export const deploymentMachine = setup({
  types: {
    context: {} as DeploymentData,
    events: {} as DeploymentEvent,
    input: {} as DeploymentData,
  },
  guards: {
    hasTargets: ({ context }) => context.targeted > 0,
    isCanary: ({ context }) => context.policy.strategy === 'canary',
    autoPromote: ({ context }) => context.policy.autoPromote,
    // §5 v1.1: without a stable canary the group is never done: the deployment waits (for a joining node, or an abort).
    canariesResolved: ({ context }) => step.canariesResolved(context) && step.hasCanaryEvidence(context),
    lacksEvidence: ({ context }) => context.reason !== NO_CANARY_EVIDENCE && step.canariesResolved(context) && !step.hasCanaryEvidence(context),
    allResolved: ({ context }) => context.cursor >= context.order.length && context.counts.updating === 0,
    failureBreaksRule: ({ context }) => step.oneMoreFailureBreaksRule(context),
    willRollBack: ({ context }) => context.rollbackTarget !== null && (step.exposedCount(context) > 0 || context.carried.length > 0),
    revertsDone: ({ context }) => context.counts.reverting === 0,
    resumesTo: ({ context }, params: { state: ResumeTarget }) => context.resumeTo === params.state,
  },
  actions: {
    armTimeouts: ({ context }) => step.armTimeouts(context),
    announce: ({ context }, params: { state: 'pending' | 'in_progress' | 'awaiting_promotion' | 'paused' }) =>
      step.announceState(context, params.state, params.state === 'pending' ? 'no_eligible_node' : null),
    fixCanaryGroup: ({ context }) => step.fixCanaryGroup(context),
    fill: ({ context, event }, params: Limit) =>
      step.fillWindow(context, event.now, event.slots, params.upTo),
    appendNode: ({ context, event }) => step.appendNode(context, nodeOf(event)),
    startLateNode: ({ context, event }) => step.startLateNode(context, nodeOf(event), event.now),
    markStable: ({ context, event }) => step.markStable(context, nodeOf(event)),
    markFailed: ({ context, event }) => {
      if (event.type === 'node.failed') step.markFailed(context, event.node, event.reason);
    },
    dropNode: ({ context, event }) => step.dropNode(context, nodeOf(event)),
    promote: ({ context }, params: { auto: boolean }) => step.promote(context, params.auto),
    awaitEvidence: ({ context }) => step.awaitEvidence(context),
    awaitPromotion: ({ context }) =>
      context.io.out.push({ type: 'decision', action: 'await_promotion', reason: 'every canary resolved and the failure rule holds; waiting for an operator promote' }),
    pause: ({ context, event }, params: { resumeTo: ResumeTarget }) => step.pause(context, event.now, params.resumeTo),
    resume: ({ context, event }) => step.resume(context, event.now),
    recordFailure: ({ context, event }) => step.recordFailure(context, event.now, failureReason(event)),
    beginRollback: ({ context, event }) => step.beginRollback(context, event.now),
    explainNoRollback: ({ context }) => step.explainNoRollback(context),
    markReverted: ({ context, event }) => step.markReverted(context, nodeOf(event), event.type === 'node.reverted'),
    complete: ({ context, event }) => {
      context.io.out.push({ type: 'decision', action: 'complete', reason: 'every targeted node resolved and the failure rule holds' });
      step.announceState(context, 'completed', null);
      step.end(context, event.now);
    },
    endFailed: ({ context, event }) => {
      step.stopInFlight(context, 'deployment failed without rollback');
      step.end(context, event.now);
    },
    endRolledBack: ({ context, event }) => {
      step.announceState(context, 'rolled_back', context.reason);
      step.end(context, event.now);
    },
    cancel: ({ context, event }) => {
      const by = event.type === 'supersede' ? event.by : 'a newer deployment';
      context.io.out.push({ type: 'decision', action: 'cancel', reason: `superseded by ${by}` });
      step.announceState(context, 'canceled', 'superseded');
      step.stopInFlight(context, `superseded by ${by}`);
      step.end(context, event.now);
    },
    retire: ({ context, event }) => {
      const by = event.type === 'supersede' ? event.by : 'a newer deployment';
      step.stopInFlight(context, `superseded by ${by}`);
    },
  },
}).createMachine({
  id: 'deployment',
  context: ({ input }) => input,
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
