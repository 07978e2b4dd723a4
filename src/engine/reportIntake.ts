/**
 * Health and execution reports (§4), the hot path: a few Map lookups, no
 * scan. A report is routed to the job's latest deployment, judged by the pure
 * rules in `reports.ts`, and either feeds the node's streak, resolves it,
 * degrades or recovers a stable node, or is counted as ignored.
 */
import type { NodeRecord } from '../../machines/deploymentContext.js';
import { setNodeState } from '../../machines/steps.js';
import { resolve, send, slots } from './effects.js';
import { latestOf, type EngineCore, type Routed, type Runtime } from './engineCore.js';
import { trackStreak } from './health/streaks.js';
import { executionOutcome, expectedVersion, firstReportOf, healthOutcome, type IgnoredReason } from './reports.js';
import { isPassing } from './rules/passingReport.js';
import type { ExecutionReport, HealthReport } from './types.js';

/** The deployment and node record a report is about, or why it changes nothing. */
function route(core: EngineCore, report: HealthReport | ExecutionReport): Routed | IgnoredReason {
  const job = core.jobs.get(report.job);
  if (job === undefined) return 'unknown_job';
  if (!core.nodes.has(report.node)) return 'unknown_node';
  const rt = latestOf(core, job);
  const record = rt.data.nodes.get(report.node);
  if (report.version !== expectedVersion(rt.data.version, rt.data.rollbackTarget, record)) return 'stale_version';
  if (record === undefined) return 'not_updating';
  core.routed.rt = rt;
  core.routed.record = record;
  return core.routed;
}

export function onHealth(core: EngineCore, report: HealthReport): void {
  const routed = route(core, report);
  if (typeof routed === 'string') return ignore(core, report, routed);
  const { rt, record } = routed;
  const d = rt.data;
  const passing = isPassing(report, d.policy.maxErrorRate);
  switch (healthOutcome(record.state, d.policy.judge, passing)) {
    case 'track': {
      const streaking = core.timers.dueAt(d.id, 'streak', report.node) !== null;
      const verdict = trackStreak(streaking, passing, d.policy.minHealthyMs);
      if (verdict === 'arm') core.timers.arm(d.id, 'streak', report.node, core.now + d.policy.minHealthyMs);
      else if (verdict === 'broken') core.timers.disarm(d.id, 'streak', report.node);
      else if (verdict === 'stable') resolve(core, rt, report.node, record, null);
      return;
    }
    case 'degrade':
      return degrade(core, rt, report.node, record);
    case 'recover':
      setNodeState(d, record, 'stable');
      return core.outbox.emit('decision', { at: core.now, deployment: d.id, action: 'recovered', node: report.node, reason: 'a degraded node reports passing again' });
    case 'traffic':
      return;
    case 'not_updating':
      return ignore(core, report, 'not_updating');
  }
}

export function onExecution(core: EngineCore, report: ExecutionReport): void {
  const routed = route(core, report);
  if (typeof routed === 'string') return ignore(core, report, routed);
  const { rt, record } = routed;
  const outcome = executionOutcome(record.state, rt.data.policy.judge, report.status);
  if (outcome === 'not_updating') return ignore(core, report, outcome);
  if (!firstReportOf(record, report.status)) return ignore(core, report, 'duplicate');
  const stamp = { node: report.node, now: core.now, slots: slots(core) };
  switch (outcome) {
    case 'stable':
      return resolve(core, rt, report.node, record, null);
    case 'failed':
      return resolve(core, rt, report.node, record, 'execution_failed');
    case 'reverted':
      return send(core, rt, { type: 'node.reverted', ...stamp });
    case 'revert_failed':
      return send(core, rt, { type: 'node.revert_failed', ...stamp });
    case 'degrade':
      return degrade(core, rt, report.node, record);
    case 'none':
      return;
  }
}

/** §4: a stable node's later trouble never fails the deployment; it is reported as degraded. */
function degrade(core: EngineCore, rt: Runtime, node: string, record: NodeRecord): void {
  setNodeState(rt.data, record, 'degraded');
  core.outbox.emit('node.degraded', { at: core.now, deployment: rt.data.id, node, version: rt.data.version });
}

function ignore(core: EngineCore, report: { node: string; job: string }, reason: IgnoredReason): void {
  core.ignoredReports[reason]++;
  core.outbox.emit('report.ignored', { at: core.now, node: report.node, job: report.job, reason });
}
