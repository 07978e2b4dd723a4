/**
 * The HTML report (`--report FILE.html`): a model built from a run, a Monte
 * Carlo series or a comparison, rendered by one pure function.
 */
export { collectRun, MAX_TIMELINE_POINTS, type RunCollector } from './collectRun.js';
export { histogram, monteCarloReport } from './histogram.js';
export { comparisonTable, policiesReport, tuneRanking } from './compareTables.js';
export { renderReport } from './render.js';
export * from './model.js';
