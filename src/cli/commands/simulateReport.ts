/**
 * `simulate --report FILE.html`: gathers what the report needs while the run
 * (or the series of runs) goes, then writes the page. The model and the HTML
 * are `src/report`'s; this file only connects them to the command.
 */
import { renderReport, collectRun, monteCarloReport, REPORT_FORMAT, type ReportModel } from '../../report/index.js';
import type { Aggregate, RunSummary } from '../../sim/aggregate.js';
import type { SimResult } from '../../sim/result.js';
import type { Scenario } from '../../sim/scenario.js';
import type { TraceSink } from '../../sim/trace.js';
import type { ReportFile } from '../reportFile.js';

function page(title: string, scenario: Scenario, parts: Pick<ReportModel, 'run' | 'monteCarlo'>): ReportModel {
  return { format: REPORT_FORMAT, title, description: scenario.description, compare: [], ...parts };
}

/** One run: a trace sink to pass to the run, then `write` with its result. */
export function singleRunReport(file: ReportFile, title: string, scenario: Scenario): { sink: TraceSink; write: (result: SimResult) => void } {
  const collector = collectRun(scenario);
  return {
    sink: collector.sink,
    write: (result) => file.write(renderReport(page(title, scenario, { run: collector.finish(result), monteCarlo: null }))),
  };
}

/** `--runs N`: an `onRun` to pass to the series, then `write` with its aggregate. */
export function seriesReport(file: ReportFile, title: string, scenario: Scenario): { onRun: (index: number, summary: RunSummary) => void; write: (aggregate: Aggregate) => void } {
  const runs: RunSummary[] = [];
  return {
    onRun: (index, summary) => {
      runs[index] = summary;
    },
    write: (aggregate) => file.write(renderReport(page(title, scenario, { run: null, monteCarlo: monteCarloReport(aggregate, runs) }))),
  };
}
