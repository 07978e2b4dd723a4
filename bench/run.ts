/**
 * `npm run bench`: runs each case in a fresh child process
 * (`node --expose-gc dist/bench/case.js <case> <nodes> [n]`), so each one's
 * peak memory is its own, then prints a table of figures, the targets with
 * PASS/MISS, the exact commands and the machine, and writes everything to
 * dist/bench-results.json. Arguments filter the cases by name, e.g.
 * `npm run bench -- sim-rolling` or `node dist/bench/run.js engine`.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseResult } from './resultLine.js';
import { judgeTargets, type CaseResult, type Verdict } from './targets.js';

interface CaseRun {
  name: 'engine-rolling' | 'sim-rolling' | 'monte-carlo';
  nodes: number;
  /** Repeats (sim-rolling) or runs (monte-carlo). */
  extra?: number;
}

const CASES: CaseRun[] = [
  { name: 'engine-rolling', nodes: 100_000 },
  { name: 'sim-rolling', nodes: 10_000, extra: 5 },
  { name: 'sim-rolling', nodes: 100_000, extra: 3 },
  { name: 'sim-rolling', nodes: 1_000_000, extra: 1 },
  { name: 'monte-carlo', nodes: 1_000, extra: 1_000 },
];

/** Room for a 1M-node run to show its real figure (a MISS) instead of dying at the default heap limit. */
const NODE_FLAGS = ['--expose-gc', '--max-old-space-size=16384'];
const CASE_FILE = fileURLToPath(new URL('./case.js', import.meta.url));
const RESULTS_FILE = fileURLToPath(new URL('../bench-results.json', import.meta.url));

function argsOf(run: CaseRun): string[] {
  return [...NODE_FLAGS, CASE_FILE, run.name, String(run.nodes), ...(run.extra === undefined ? [] : [String(run.extra)])];
}

function runChild(run: CaseRun): Promise<CaseResult | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argsOf(run), { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.on('close', (code, signal) => {
      const result = parseResult(stdout);
      if (result !== null && code === 0) resolve(result as unknown as CaseResult);
      else resolve({ error: `exit ${code ?? signal}: ${stdout.trim().slice(-500)}` });
    });
  });
}

const num = (n: number): string => n.toLocaleString('en-US');
const time = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const rate = (perS: number): string => (perS >= 1e6 ? `${(perS / 1e6).toFixed(2)}M/s` : `${(perS / 1e3).toFixed(0)}k/s`);
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function caseRow(r: CaseResult): string[] {
  switch (r.case) {
    case 'engine-rolling':
      return [r.case, num(r.nodes), time(r.wall_ms), time(r.cpu_ms), `${rate(r.health_per_s)} health, ${rate(r.inputs_per_s)} inputs`, mib(r.memory.peak_rss), `${Math.round(r.heap_per_node)} B`, '-'];
    case 'sim-rolling':
      return [
        r.case,
        num(r.nodes),
        `${time(r.wall_ms)} (loop ${time(r.baseline_ms)})`,
        time(r.cpu_ms),
        `${rate(r.events_per_s)} (loop ${rate(r.baseline_events_per_s)})`,
        mib(r.peak_rss),
        `${Math.round(r.heap_per_node)} B + ${Math.round(r.scenario_heap_per_node)} B input`,
        `${r.ratio.toFixed(2)}x (cpu ${r.cpu_ratio.toFixed(2)}x)`,
      ];
    case 'monte-carlo':
      return [`${r.case} (${num(r.runs)} runs)`, num(r.nodes), time(r.wall_ms), time(r.cpu_ms), `${rate(r.events_per_s)} est., ${r.runs_per_s.toFixed(0)} runs/s`, mib(r.peak_rss), '-', '-'];
  }
}

function verdictRow(v: Verdict): string[] {
  return [v.issue, v.target, v.figure ?? 'not run', v.pass === null ? 'NOT RUN' : v.pass ? 'PASS' : 'MISS', v.cpu_figure ?? '-'];
}

function machine(loads: number[]): Record<string, string | number> {
  const cores = cpus();
  return {
    node: process.version,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform} ${process.arch}`,
    /** Other work on the machine skews wall times; the JSON also has CPU times. */
    load_1min_max: Math.max(...loads, loadavg()[0]!).toFixed(2),
    date: new Date().toISOString(),
  };
}

const filters = process.argv.slice(2);
const selected = CASES.filter((c) => filters.length === 0 || filters.some((f) => c.name.includes(f)));
const results: CaseResult[] = [];
const errors: Array<{ run: CaseRun; error: string }> = [];
/** The 1-minute load average before each case: above the core count, wall times stretch past CPU times. */
const loads: number[] = [];
for (const run of selected) {
  process.stderr.write(`bench: ${run.name} ${num(run.nodes)} nodes ...\n`);
  loads.push(Number(loadavg()[0]!.toFixed(2)));
  const outcome = await runChild(run);
  if ('error' in outcome) errors.push({ run, error: outcome.error });
  else results.push(outcome);
}

const verdicts = judgeTargets(results);
const lines = [
  row(['case', 'nodes', 'wall time', 'cpu time', 'events/s', 'peak RSS', 'heap/node', 'vs loop']),
  row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ...results.map((r) => row(caseRow(r))),
  '',
  row(['issue', 'target', 'figure', 'verdict', 'by CPU time']),
  row(['---', '---', '---', '---', '---']),
  ...verdicts.map((v) => row(verdictRow(v))),
  '',
  'command: npm run bench',
  ...selected.map((run) => `  node ${argsOf(run).join(' ').replace(CASE_FILE, 'dist/bench/case.js')}`),
  `machine: ${Object.entries(machine(loads)).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ...errors.map(({ run, error }) => `FAILED ${run.name} ${run.nodes}: ${error}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
writeFileSync(RESULTS_FILE, `${JSON.stringify({ format: 1, command: 'npm run bench', machine: machine(loads), load_1min_before_cases: loads, cases: results, targets: verdicts, errors }, null, 2)}\n`);
process.stdout.write(`results: ${RESULTS_FILE}\n`);
if (errors.length > 0) process.exitCode = 1;
