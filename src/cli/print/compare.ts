/** Output of `compare`: the JSON (`format`), or a table with one column per policy and the best value of each row marked. */
import type { Cell, Comparison, CompareRow } from '../../sim/compare.js';
import type { MetricUnit } from '../../sim/policyMetrics.js';
import type { Colors } from './colors.js';
import { jsonOutput } from './json.js';
import { count } from './problems.js';
import { compact } from './simulate.js';

export function compareJson(comparison: Comparison): string {
  return jsonOutput({ ...comparison });
}

/** The mark of a best value: a character, so it survives without colour. */
const BEST = '*';

export function compareReport(source: string, description: string | null, comparison: Comparison, colors: Colors): string {
  const last = comparison.seed + comparison.runs - 1;
  const releases =
    comparison.releases === null
      ? 'one release behavior (no release cases)'
      : comparison.releases.map((release) => `${release.name}${release.probability === null ? '' : ` ${percent(release.probability)}`}`).join(', ');
  const lines = [
    colors.bold(`${source} · ${comparison.policies.length} ${comparison.policies.length === 1 ? 'policy' : 'policies'} · ${count(comparison.runs, 'run')} per release case · seeds ${comparison.seed}..${last}`),
    ...(description === null ? [] : [colors.dim(description)]),
    colors.dim(`releases: ${releases}; every policy saw the same draws (the same bad nodes, the same start delays)`),
    '',
  ];
  const header = ['', ...comparison.policies.map((policy) => `${policy.label} (${policy.strategy})`)];
  const body = comparison.rows.map((row) => [labelOf(row, comparison), ...row.values.map((cell, index) => cellText(row, cell, index))]);
  const outcomes = Object.keys(comparison.policies[0]?.outcomes ?? {}).map((release) => [
    `outcomes, ${release}`,
    ...comparison.policies.map((policy) => outcomeText(policy.outcomes[release] ?? {})),
  ]);
  const table = [header, ...body, ...outcomes];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => cells[column]!.length)));
  const render = (cells: string[], paint: (text: string, column: number) => string): string =>
    `  ${cells.map((cell, column) => paint(column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!), column)).join('  ')}`.trimEnd();
  lines.push(render(header, (text) => colors.bold(text)));
  comparison.rows.forEach((row, r) => {
    lines.push(render(body[r]!, (text, column) => (column === 0 ? colors.dim(text) : row.best.includes(column - 1) ? colors.green(colors.bold(text)) : text)));
  });
  for (const cells of outcomes) lines.push(render(cells, (text, column) => (column === 0 ? colors.dim(text) : text)));
  lines.push('', colors.dim(`${BEST} best in its row (ties share it; none when all are equal). Durations are of the good release, exposure and detection of the bad one.`));
  lines.push(colors.dim('95% intervals and run counts: --json.'));
  return `${lines.join('\n')}\n`;
}

function labelOf(row: CompareRow, comparison: Comparison): string {
  const indent = /^(active|waiting)_/.test(row.metric) ? '  ' : '';
  const better = row.better === null ? '' : row.better === 'lower' ? ' ↓' : ' ↑';
  const release = comparison.releases === null ? '' : row.metric.startsWith('duration') ? ', good release' : '';
  return `${indent}${row.label}${release}${better}`;
}

function cellText(row: CompareRow, cell: Cell | null, index: number): string {
  const mark = row.best.includes(index) ? ` ${BEST}` : '  ';
  return cell === null ? '-  ' : `${valueText(row.unit, cell.value)}${mark}`;
}

export function valueText(unit: MetricUnit, value: number): string {
  switch (unit) {
    case 'seconds':
      return compact(value);
    case 'nodes':
      return String(value);
    case 'percent':
      return `${value}%`;
    case 'rate':
      return percent(value);
  }
}

function percent(share: number): string {
  return `${(Math.round(share * 10000) / 100).toString()}%`;
}

function outcomeText(outcomes: Record<string, number>): string {
  return `${Object.entries(outcomes).map(([outcome, runs]) => `${outcome} ${runs}`).join(', ')}  `;
}
