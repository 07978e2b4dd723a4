/**
 * The nodes-over-time chart: a stacked step area in SVG (the shapes only,
 * stretched to the box), with the axes, the phase bands and the legend in
 * HTML so their text stays readable at any width. Each bucket has a fill
 * pattern as well as a colour, so the chart reads in grey.
 */
import { count, duration, esc } from './html.js';
import { NODE_BUCKETS, type NodeBucket, type NodeTimeline, type PhaseBand } from './model.js';

/** Drawing order, bottom to top: settled nodes under the moving ones. */
const STACK: readonly NodeBucket[] = ['stable', 'reverted', 'updating', 'reverting', 'failed', 'revert_failed'];

export const BUCKET_TITLES: Record<NodeBucket, string> = {
  updating: 'updating',
  stable: 'stable',
  failed: 'failed',
  reverting: 'reverting',
  reverted: 'reverted',
  revert_failed: 'revert failed',
};

/** The SVG user space of the plot; stretched to the box with preserveAspectRatio="none". */
const WIDTH = 1000;
const HEIGHT = 300;

export function timelineChart(timeline: NodeTimeline, phases: readonly PhaseBand[]): string {
  const top = Math.max(1, niceCeil(maxStack(timeline)));
  const end = timeline.end > 0 ? timeline.end : 1;
  const x = (t: number): number => round((Math.min(t, end) / end) * WIDTH);
  const y = (n: number): number => round(HEIGHT - (n / top) * HEIGHT);
  const areas: string[] = [];
  const below = new Array<number>(timeline.t.length).fill(0);
  for (const bucket of STACK) {
    if (timeline.peak[bucket] === 0) continue;
    const above = below.map((base, i) => base + timeline.counts[bucket][i]!);
    areas.push(`<path class="area" fill="url(#fill-${bucket})" d="${stepArea(timeline.t, below, above, x, y, end)}"><title>${esc(BUCKET_TITLES[bucket])}</title></path>`);
    above.forEach((value, i) => (below[i] = value));
  }
  const yTicks = [top, top / 2, 0].map((n) => `<span style="top:${round((1 - n / top) * 100)}%">${count(Math.round(n))}</span>`).join('');
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((share) => `<span class="${share === 0.25 || share === 0.75 ? 'minor' : ''}" style="left:${share * 100}%">${esc(duration(share * end))}</span>`).join('');
  const caption = timeline.sampled
    ? `Nodes of the deployment in each state, sampled at ${timeline.t.length} evenly spaced instants over ${duration(end)}; peaks in the table are exact.`
    : `Nodes of the deployment in each state over ${duration(end)}, at every instant a count changed.`;
  return `<figure class="timeline">
<div class="bands" aria-label="phases">${phases.map((band) => phaseBand(band, end)).join('')}</div>
<div class="plot"><div class="y-axis" aria-hidden="true">${yTicks}</div>
<svg class="area-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="stacked chart of nodes per state over time">${phases.map((band) => `<line class="band-line" x1="${x(band.from)}" x2="${x(band.from)}" y1="0" y2="${HEIGHT}"/>`).join('')}${areas.join('')}</svg>
<div class="x-axis" aria-hidden="true">${xTicks}</div></div>
<figcaption>${esc(caption)}</figcaption>
</figure>`;
}

/** A bucket's legend swatch: the same pattern as its area. */
export function swatch(bucket: NodeBucket): string {
  return `<svg class="swatch" viewBox="0 0 16 16" aria-hidden="true"><rect width="16" height="16" fill="url(#fill-${bucket})" stroke="#222"/></svg>`;
}

/** The patterns behind the areas and swatches, once per page. */
export function fillPatterns(): string {
  const pattern = (bucket: NodeBucket, colour: string, marks: string): string =>
    `<pattern id="fill-${bucket}" patternUnits="userSpaceOnUse" width="8" height="8"><rect width="8" height="8" fill="${colour}"/>${marks}</pattern>`;
  const ink = 'stroke="#111" stroke-width="1.2"';
  const defs: Record<NodeBucket, string> = {
    stable: pattern('stable', '#9fd3a8', ''),
    updating: pattern('updating', '#8fb8e8', `<path d="M0 8L8 0M-2 2L2 -2M6 10L10 6" ${ink}/>`),
    failed: pattern('failed', '#e8877f', `<path d="M0 0L8 8M8 0L0 8" ${ink}/>`),
    reverting: pattern('reverting', '#f2c46d', `<circle cx="4" cy="4" r="1.6" fill="#111"/>`),
    reverted: pattern('reverted', '#c3a8e0', `<path d="M0 2H8M0 6H8" ${ink}/>`),
    revert_failed: pattern('revert_failed', '#9a3b3b', `<path d="M2 0V8M6 0V8" stroke="#fff" stroke-width="1.2"/>`),
  };
  return `<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>${NODE_BUCKETS.map((bucket) => defs[bucket]).join('')}</defs></svg>`;
}

function phaseBand(band: PhaseBand, end: number): string {
  const left = (band.from / end) * 100;
  const width = ((Math.min(band.to, end) - band.from) / end) * 100;
  const text = `${band.phase} ${duration(band.from)}–${duration(band.to)}${band.reason === null ? '' : ` (${band.reason})`}`;
  return `<span class="band band-${band.phase.replace(/ /g, '-')}" style="left:${round(left)}%;width:${round(width)}%" title="${esc(text)}">${esc(band.phase)}</span>`;
}

/** The area between two step lines: forward along `above`, back along `below`. */
function stepArea(t: readonly number[], below: readonly number[], above: readonly number[], x: (t: number) => number, y: (n: number) => number, end: number): string {
  const forward: string[] = [];
  const back: string[] = [];
  for (let i = 0; i < t.length; i += 1) {
    const from = x(t[i]!);
    const to = x(i + 1 < t.length ? t[i + 1]! : end);
    forward.push(`${from} ${y(above[i]!)}`, `${to} ${y(above[i]!)}`);
    back.push(`${from} ${y(below[i]!)}`, `${to} ${y(below[i]!)}`);
  }
  return `M${forward.join('L')}L${back.reverse().join('L')}Z`;
}

function maxStack(timeline: NodeTimeline): number {
  let max = 0;
  for (let i = 0; i < timeline.t.length; i += 1) {
    let sum = 0;
    for (const bucket of NODE_BUCKETS) sum += timeline.counts[bucket][i]!;
    max = Math.max(max, sum);
  }
  return max;
}

/** A round number (1, 1.2, 1.5, 2, 2.5 ... times a power of ten) at least `value`: the axis's top. */
function niceCeil(value: number): number {
  if (value <= 0) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
