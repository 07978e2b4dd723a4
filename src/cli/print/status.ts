/** Output of `status`: the JSON (`format`), or the leader line and one row a deployment. */
import { format } from 'date-fns';
import type { DeploymentStatus } from '../../engine/index.js';
import type { LeaseView } from '../../engine/store/postgresObserver.js';
import type { StoreStatus } from '../commands/status.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count } from './problems.js';
import { safeText } from './safeText.js';

export function statusJson(status: StoreStatus): string {
  return jsonOutput({ ...status });
}

export function statusReport(status: StoreStatus, colors: Colors): string {
  const lines = [colors.bold(`${safeText(status.store)} · ${status.kind === 'postgresql' ? 'PostgreSQL' : 'SQLite'} · ${count(status.deployments.length, 'deployment')}`)];
  if (status.lease !== null) lines.push(`  ${leaseText(status.lease)}`);
  if (status.deployments.length === 0) {
    lines.push(colors.dim('  no deployment yet'));
    return `${lines.join('\n')}\n`;
  }
  const header = ['deployment', 'kind', 'versions', 'strategy', 'state', 'stable/targeted', 'updating', 'failed', 'reverted', 'created'];
  const rows = status.deployments.map(row);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((cells) => cells[column]!.length)));
  const render = (cells: string[]): string => `  ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`.trimEnd();
  lines.push(colors.dim(render(header)), ...rows.map(render));
  return `${lines.join('\n')}\n`;
}

function leaseText(lease: LeaseView): string {
  if (lease.holder === null) return lease.epoch === 0 ? 'leader: none (no replica has led yet)' : `leader: none now (the lease of epoch ${lease.epoch} was released or ran out)`;
  return `leader: ${safeText(lease.holder)}, epoch ${lease.epoch}, lease runs ${(lease.expiresInMs / 1000).toFixed(1)} s more`;
}

/** §4: a degraded node stays stable (the engine counts it apart). */
function row(d: DeploymentStatus): string[] {
  const versions = d.from_version === null ? `v${d.to_version}` : `v${d.from_version} → v${d.to_version}`;
  return [
    safeText(d.id),
    d.kind,
    versions,
    d.strategy,
    d.reason === null ? d.state : `${d.state} (${safeText(d.reason)})`,
    `${d.counts.stable + d.counts.degraded}/${d.targeted}`,
    String(d.counts.updating),
    String(d.counts.failed),
    String(d.counts.reverted),
    format(d.created_at, 'yyyy-MM-dd HH:mm:ss'),
  ];
}
