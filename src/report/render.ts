/**
 * `renderReport(model)`: the whole report as one self-contained HTML page
 * (inline CSS and SVG, no script, nothing fetched), a pure function of the
 * model. Every chart has its numbers in text beside it; every figure a
 * `--json` field has carries it in `data-field` / `data-value`.
 */
import type { Stats } from '../sim/aggregate.js';
import { count, duration, esc, figure, percent } from './html.js';
import { NODE_BUCKETS, type CompareCell, type CompareTable, type Histogram, type LabelBreakdown, type MonteCarloReport, type ReportModel, type RunReport } from './model.js';
import { REPORT_STYLES } from './styles.js';
import { BUCKET_TITLES, fillPatterns, swatch, timelineChart } from './timelineChart.js';

export function renderReport(model: ReportModel): string {
  const sections = [
    model.run === null ? '' : runSections(model.run),
    model.monteCarlo === null ? '' : monteCarloSections(model.monteCarlo),
    ...model.compare.map(compareSection),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fleet-rollout report format ${model.format}">
<title>${esc(model.title)} · fleet-rollout</title>
<style>${REPORT_STYLES}</style>
</head>
<body>
${fillPatterns()}
<header><h1>${esc(model.title)}</h1>${model.description === null ? '' : `<p class="about">${esc(model.description)}</p>`}</header>
<main>
${sections.join('\n')}
</main>
<footer>fleet-rollout report · virtual time of a simulation, seconds from the deployment's creation</footer>
</body>
</html>
`;
}

function runSections(run: RunReport): string {
  const r = run.result;
  const versions = r.from_version === null ? `v${r.to_version}` : `v${r.from_version} → v${r.to_version}`;
  const figures = [
    figure('outcome', 'outcome', r.outcome, r.reason === null ? r.outcome : `${r.outcome} (${r.reason})`),
    figure('duration', 'duration_s', r.duration_s, duration(r.duration_s)),
    figure('targeted', 'targeted', r.targeted, count(r.targeted)),
    figure('exposed', 'exposed', r.exposed, count(r.exposed)),
    figure('stable', 'stable', r.stable, count(r.stable)),
    figure('failed', 'failed', r.failed, count(r.failed)),
    figure('reverted', 'reverted', r.reverted, count(r.reverted)),
    figure('revert failed', 'revert_failed', r.revert_failed, count(r.revert_failed)),
    figure('untouched', 'untouched', r.untouched, count(r.untouched)),
    figure('most updating at once', 'max_in_flight', r.max_in_flight, count(r.max_in_flight)),
    figure('time to detect', 'time_to_detect_s', r.time_to_detect_s, r.time_to_detect_s === null ? 'no failure' : duration(r.time_to_detect_s)),
    figure('time to roll back', 'time_to_rollback_s', r.time_to_rollback_s, r.time_to_rollback_s === null ? 'no rollback ended' : duration(r.time_to_rollback_s)),
  ];
  const ended = r.ended_by === 'settled' ? 'the run settled' : 'the run reached its horizon';
  const later = r.later_deployments.map((d) => `<li>${esc(d.deployment)} (${esc(d.kind)} to v${d.to_version}) created at ${esc(duration(d.created_s))}: ${esc(d.outcome)} at ${esc(duration(d.end_s))}</li>`);
  const refused = r.refused.map((x) => `<li>${esc(duration(x.t))} ${esc(x.action)} refused: ${esc(x.message)}</li>`);
  return `<section id="outcome" aria-labelledby="outcome-h">
<h2 id="outcome-h">${esc(r.job)} ${esc(versions)} · ${esc(r.strategy)}${r.strategy === 'canary' ? `, ${count(r.canaries)} canaries` : ''} · seed ${r.seed}</h2>
<dl class="figures">${figures.join('')}</dl>
<p class="note">Deployment ${esc(r.deployment)}; ${esc(ended)} at ${esc(duration(r.end_s))} of virtual time.</p>
${later.length + refused.length === 0 ? '' : `<ul class="events">${[...refused, ...later].join('')}</ul>`}
</section>
<section id="timeline" aria-labelledby="timeline-h">
<h2 id="timeline-h">Nodes over time</h2>
<div class="chart-and-numbers">
${timelineChart(run.timeline, run.phases)}
${bucketTable(run)}
</div>
${phaseTable(run)}
</section>
${labelSection(run.labels)}`;
}

function bucketTable(run: RunReport): string {
  const { timeline } = run;
  const last = timeline.t.length - 1;
  const cell = (kind: string, value: number): string => `<td data-${kind}="${value}">${count(value)}</td>`;
  const rows = NODE_BUCKETS.map(
    (bucket) =>
      `<tr data-bucket="${bucket}"><th scope="row">${swatch(bucket)} ${esc(BUCKET_TITLES[bucket])}</th>${cell('entered', timeline.entered[bucket])}${cell('peak', timeline.peak[bucket])}${cell('end', timeline.counts[bucket][last] ?? 0)}</tr>`,
  );
  return `<table class="numbers legend"><caption>Nodes per state</caption><thead><tr><th scope="col">state</th><th scope="col">entered</th><th scope="col">peak</th><th scope="col">at the end</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function phaseTable(run: RunReport): string {
  if (run.phases.length === 0) return '';
  const rows = run.phases.map(
    (band) =>
      `<tr><th scope="row"><span class="band-key band-${band.phase.replace(/ /g, '-')}" aria-hidden="true"></span> ${esc(band.phase)}</th><td>${esc(duration(band.from))}</td><td>${esc(duration(band.to))}</td><td>${esc(duration(band.to - band.from))}</td><td>${esc(band.reason ?? '')}</td></tr>`,
  );
  return `<table class="numbers phases"><caption>Phases (the bands above the chart)</caption><thead><tr><th scope="col">phase</th><th scope="col">from</th><th scope="col">to</th><th scope="col">lasted</th><th scope="col">reason</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function labelSection(labels: readonly LabelBreakdown[]): string {
  if (labels.length === 0) return '';
  const table = (breakdown: LabelBreakdown): string => {
    const rows = [...breakdown.rows, ...(breakdown.rest === null ? [] : [breakdown.rest])];
    const body = rows.map((row, i) => {
      const failedShare = row.exposed === 0 ? 0 : row.failed / row.exposed;
      const rest = i >= breakdown.rows.length;
      return `<tr${rest ? ' class="rest"' : ''}><th scope="row">${esc(row.value)}</th><td data-col="nodes">${count(row.nodes)}</td><td data-col="exposed">${count(row.exposed)}</td><td data-col="stable">${count(row.stable)}</td><td data-col="failed" data-failed="${row.failed}">${count(row.failed)}</td><td data-col="reverted">${count(row.reverted)}</td><td data-col="failed %" class="bar-cell">${bar(failedShare, 'failed')}<span class="share">${esc(percent(failedShare))}</span></td></tr>`;
    });
    // `stack`: on a phone each row becomes a small card of "column: value" lines instead of scrolling sideways.
    return `<table class="numbers labels stack" data-label="${esc(breakdown.key)}"><caption>by <code>${esc(breakdown.key)}</code></caption><thead><tr><th scope="col">value</th><th scope="col">nodes</th><th scope="col">exposed</th><th scope="col">stable</th><th scope="col">failed</th><th scope="col">reverted</th><th scope="col" title="failed nodes of the exposed ones">failed %</th></tr></thead><tbody>${body.join('')}</tbody></table>`;
  };
  return `<section id="labels" aria-labelledby="labels-h">
<h2 id="labels-h">By label</h2>
<p class="note">Each label key of the fleet, its values with the most failures first.</p>
<div class="pair">${labels.map(table).join('')}</div>
</section>`;
}

function monteCarloSections(mc: MonteCarloReport): string {
  const a = mc.aggregate;
  const outcomes = Object.entries(a.outcomes).map(
    ([outcome, runs]) => `<tr data-outcome="${esc(outcome)}"><th scope="row">${esc(outcome)}</th><td data-runs="${runs}">${count(runs)}</td><td class="bar-cell">${bar(runs / a.runs, outcome === 'completed' ? 'ok' : 'failed')}<span class="share">${esc(percent(runs / a.runs))}</span></td></tr>`,
  );
  const detect = a.time_to_detect_s;
  return `<section id="monte-carlo" aria-labelledby="mc-h">
<h2 id="mc-h">${count(a.runs)} runs · seeds ${a.seed}–${a.seed + a.runs - 1}</h2>
<dl class="figures">${figure('runs', 'runs', a.runs, count(a.runs))}${figure('rolled back', 'rollback_rate', a.rollback_rate, percent(a.rollback_rate))}${figure('runs that failed', 'time_to_detect_s.runs', detect?.runs ?? 0, count(detect?.runs ?? 0))}</dl>
<div class="pair"><table class="numbers outcomes"><caption>Outcomes</caption><thead><tr><th scope="col">outcome</th><th scope="col">runs</th><th scope="col">share</th></tr></thead><tbody>${outcomes.join('')}</tbody></table>
<table class="numbers stats"><caption>Distributions</caption><thead><tr><th scope="col"></th><th scope="col">p50</th><th scope="col">p90</th><th scope="col">p99</th><th scope="col">mean</th><th scope="col">max</th></tr></thead><tbody>
${statsRow('duration', 'duration_s', a.duration_s, duration)}${statsRow('exposed', 'exposed', a.exposed, (n) => count(n))}${detect === null ? '' : statsRow('time to detect', 'time_to_detect_s', detect, duration)}
</tbody></table></div>
<div class="pair">${histogramTable(mc.duration, a.runs)}${histogramTable(mc.exposed, a.runs)}</div>
</section>`;
}

function statsRow(label: string, field: string, stats: Stats, show: (value: number) => string): string {
  const cells = (['p50', 'p90', 'p99', 'mean', 'max'] as const).map((key) => `<td data-field="${field}.${key}" data-value="${stats[key]}">${esc(show(stats[key]))}</td>`);
  return `<tr><th scope="row">${esc(label)}</th>${cells.join('')}</tr>`;
}

/**
 * A histogram as rows: the bin in words, a bar, the number of runs. Reads the
 * same on a phone and in grey. Two or more empty bins in a row are one row.
 */
function histogramTable(histogram: Histogram, runs: number): string {
  const most = Math.max(1, ...histogram.bins.map((bin) => bin.runs));
  const range = (from: number, to: number): string => {
    if (histogram.unit === 'nodes') return to - from <= 1 ? count(from) : `${count(from)}–${count(to - 1)}`;
    return `${duration(from)} – ${duration(to)}`;
  };
  const rows: string[] = [];
  const { bins } = histogram;
  for (let i = 0; i < bins.length; i += 1) {
    let last = i;
    while (bins[i]!.runs === 0 && last + 1 < bins.length && bins[last + 1]!.runs === 0) last += 1;
    const runsIn = bins[i]!.runs;
    const empty = last > i ? ' class="empty"' : '';
    rows.push(`<tr${empty}><th scope="row">${esc(range(bins[i]!.from, bins[last]!.to))}</th><td class="bar-cell">${bar(runsIn / most, 'runs')}</td><td data-runs="${runsIn}">${count(runsIn)}</td></tr>`);
    i = last;
  }
  const unit = histogram.unit === 'nodes' ? 'nodes' : 'duration';
  return `<table class="numbers histogram" data-histogram="${esc(histogram.unit)}"><caption>Histogram of ${esc(histogram.label)} over ${count(runs)} runs (each bin holds its lower bound)</caption><thead><tr><th scope="col">${unit}</th><th scope="col">share of the busiest bin</th><th scope="col">runs</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function compareSection(table: CompareTable): string {
  const head = table.columns.map((column) => `<th scope="col">${esc(column)}</th>`).join('');
  const rows = table.rows.map((row) => {
    const cells = row.cells.map((cell, column) => `<td data-col="${esc(table.columns[column] ?? '')}"${cellBody(cell)}</td>`);
    return `<tr${row.key === undefined ? '' : ` data-key="${esc(row.key)}"`}><th scope="row">${esc(row.label)}</th>${cells.join('')}</tr>`;
  });
  return `<section id="${esc(table.name)}" aria-labelledby="${esc(table.name)}-h">
<h2 id="${esc(table.name)}-h">${esc(table.title)}</h2>
<table class="numbers compare stack" data-table="${esc(table.name)}"><thead><tr><th scope="col"></th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>
${table.note === undefined ? '' : `<p class="note">${esc(table.note)}</p>`}
</section>`;
}

/** The rest of a `<td`: its value attribute and its text. */
function cellBody(cell: CompareCell | string | number | null): string {
  if (cell === null) return '>–';
  if (typeof cell !== 'object') return `>${esc(typeof cell === 'number' ? count(cell) : cell)}`;
  const shown = cell.best === true ? `<strong class="best">${esc(cell.shown)} *</strong>` : esc(cell.shown);
  return ` data-value="${esc(cell.value)}">${shown}`;
}

/** A horizontal bar of `share` (0..1) of its cell; its kind sets the pattern, never the colour alone. */
function bar(share: number, kind: 'failed' | 'ok' | 'runs'): string {
  const width = Math.max(0, Math.min(1, share)) * 100;
  return `<span class="bar bar-${kind}" aria-hidden="true"><span style="width:${Math.round(width * 10) / 10}%"></span></span>`;
}
