/** Output of `watch`: a block redrawn in place on a terminal, or one line a change elsewhere. */
import { format } from 'date-fns';
import type { WatchView } from '../watch/view.js';
import type { Colors } from './colors.js';
import { safeText } from './safeText.js';

// Ids, names and paths come from the store and the command line: printed through safeText (they cannot move the cursor).

/** The block for a terminal: phase, window, counts, failure budget, latest failures. */
export function watchBlock(view: WatchView, source: string, at: number, colors: Colors): string[] {
  const s = view.status;
  const c = s.counts;
  const versions = s.from_version === null ? `v${s.to_version}` : `v${s.from_version} → v${s.to_version}`;
  const canary = s.canary_nodes.length > 0 ? `, ${s.canary_nodes.length} canaries${s.promoted ? ', promoted' : ''}` : '';
  const rows: Array<[string, string]> = [
    ['phase', `${paint(s.state, colors)}${s.reason === null ? '' : ` (${s.reason})`}`],
    ['window', `${c.updating} updating now, at most ${s.max_in_flight} at once so far`],
    ['nodes', `${s.targeted} targeted: ${stableOf(s)} stable${c.degraded > 0 ? ` (${c.degraded} degraded)` : ''}, ${c.updating} updating, ${c.pending} pending, ${c.failed} failed, ${c.reverting} reverting, ${c.reverted} reverted, ${c.revert_failed} revert failed`],
    ['budget', `${view.budgetLeft} more failed ${view.budgetLeft === 1 ? 'node' : 'nodes'} tolerated (${s.budget.failed} failed of ${s.budget.group}; limits ${s.budget.max_failed_nodes} nodes, ${s.budget.max_failed_nodes_percent}%)`],
  ];
  for (const failure of view.failures) {
    const when = failure.at === null ? '' : ` at ${clock(failure.at)}`;
    rows.push(['failure', `${safeText(failure.node)} ${failure.reason ?? 'failed before the last snapshot (no reason kept)'}${when}`]);
  }
  if (s.failed_nodes.length > view.failures.length) rows.push(['', colors.dim(`... and ${s.failed_nodes.length - view.failures.length} more failed nodes`)]);
  if (view.leader !== null) rows.push(['leader', leaderText(view.leader)]);
  const heading = `${safeText(s.id)} · ${s.kind} ${versions} · ${s.strategy}${canary}`;
  return [colors.bold(heading), ...rows.map(([label, text]) => `  ${colors.dim(label.padEnd(8))} ${text}`), colors.dim(`  ${safeText(source)} · read ${clock(at)}`)];
}

/** One line, printed when it changes (the time is left out of the comparison by the caller). */
export function watchLine(view: WatchView): string {
  const s = view.status;
  const c = s.counts;
  const latest = view.failures[0];
  const failure = latest === undefined ? '' : ` · latest failure ${safeText(latest.node)} ${latest.reason ?? '(before the last snapshot)'}`;
  const leader = view.leader === null ? '' : ` · leader ${leaderText(view.leader)}`;
  return `${safeText(s.id)} ${s.state}${s.reason === null ? '' : ` (${s.reason})`} · ${c.updating} updating · ${stableOf(s)}/${s.targeted} stable · ${c.failed} failed · ${c.reverted} reverted · budget left ${view.budgetLeft}${failure}${leader}`;
}

/** §7a: who holds a PostgreSQL store's lease, and in which epoch. */
function leaderText(leader: NonNullable<WatchView['leader']>): string {
  if (leader.holder !== null) return `${safeText(leader.holder)} (epoch ${leader.epoch})`;
  return leader.epoch === 0 ? 'none (no replica has led yet)' : `none now (epoch ${leader.epoch} released or ran out)`;
}

export function waitingLine(source: string, job: string | null): string {
  return `${safeText(source)}: waiting for ${job === null ? 'a deployment' : `a deployment of ${safeText(job)}`}`;
}

/** §4: a degraded node stays stable (it is counted apart by the engine). */
function stableOf(status: WatchView['status']): number {
  return status.counts.stable + status.counts.degraded;
}

export function clock(at: number): string {
  return format(at, 'HH:mm:ss');
}

function paint(state: string, colors: Colors): string {
  if (state === 'completed') return colors.green(state);
  if (state === 'failed' || state === 'rolled_back' || state === 'rolling_back') return colors.red(state);
  return colors.yellow(state);
}
