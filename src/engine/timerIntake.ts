/**
 * A fired timer: queue and total timeouts go to the machine; an updating
 * node's streak makes it stable, its deadline or execution timeout fails it;
 * a revert still running at its deadline failed. A timer whose node has moved
 * on changes nothing.
 */
import { resolve, send, slots } from './effects.js';
import type { EngineCore } from './engineCore.js';
import type { TimerKind } from './types.js';

export function onTimer(core: EngineCore, deployment: string, kind: TimerKind, timerNode: string | null): void {
  if (!core.timers.take(deployment, kind, timerNode)) return;
  const rt = core.runtimes.get(deployment)!;
  if (kind === 'queue') return send(core, rt, { type: 'timeout', reason: 'queue_timeout', now: core.now, slots: slots(core) });
  if (kind === 'total') return send(core, rt, { type: 'timeout', reason: 'total_timeout', now: core.now, slots: slots(core) });
  const node = timerNode!;
  const record = rt.data.nodes.get(node);
  if (kind === 'revert') {
    if (record?.state === 'reverting') send(core, rt, { type: 'node.revert_failed', node, now: core.now, slots: slots(core) });
  } else if (record?.state === 'updating') {
    resolve(core, rt, node, record, kind === 'streak' ? null : kind === 'deadline' ? 'deadline_exceeded' : 'execution_timeout');
  }
}
