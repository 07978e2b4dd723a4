/**
 * `npm run bench`: runs each case in a fresh child process
 * (`node --expose-gc dist/bench/case.js <case> <nodes> [n]`), so each one's
 * peak memory is its own, then prints a table of figures, the targets with
 * PASS/MISS, the exact commands and the machine, and writes everything to
 * dist/bench-results.json. Arguments filter the cases by name, e.g.
 * `npm run bench -- sim-rolling` or `node dist/bench/run.js engine` (a case's
 * whole name selects it alone: `npm run bench -- report`).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { HistoryResult } from './cases/history.js';
import type { PostgresFailoverResult } from './cases/postgresFailover.js';
import type { PostgresStoreResult } from './cases/postgresStore.js';
import { CHROMIUM_MISSING } from './chromium.js';
import { findPostgresBin, POSTGRES_MISSING } from './postgresCluster.js';
import { parseResult } from './resultLine.js';
import { judgeTargets, type CaseResult, type Verdict } from './targets.js';

interface CaseRun {
  name: 'engine-rolling' | 'sim-rolling' | 'monte-carlo' | 'postgres-store' | 'postgres-failover' | 'cli-rolling' | 'harness-canary' | 'tune-cli' | 'durable-reports' | 'history' | 'report';
  nodes: number;
  /** Repeats (sim-rolling), runs (monte-carlo), failover trials (postgres-store, postgres-failover) or rounds (cli-rolling). */
  extra?: number;
}

const CASES: CaseRun[] = [
  { name: 'engine-rolling', nodes: 100_000 },
  { name: 'sim-rolling', nodes: 10_000, extra: 5 },
  { name: 'sim-rolling', nodes: 100_000, extra: 3 },
  { name: 'sim-rolling', nodes: 1_000_000, extra: 1 },
  { name: 'monte-carlo', nodes: 1_000, extra: 1_000 },
  // Starts a throwaway PostgreSQL cluster; skipped (one line) when PostgreSQL is not installed.
  { name: 'postgres-store', nodes: 0, extra: 50 },
  // Three engine replicas, the leader SIGKILLed 50 times: its death to the standby's first decision.
  { name: 'postgres-failover', nodes: 0, extra: 50 },
  { name: 'cli-rolling', nodes: 100_000, extra: 3 },
  { name: 'cli-rolling', nodes: 1_000_000, extra: 3 },
  { name: 'harness-canary', nodes: 20_000 },
  { name: 'harness-canary', nodes: 100_000 },
  { name: 'tune-cli', nodes: 2_000 },
  // Durable (synchronous = FULL) health reports in batches of 1,000 over 10,000 nodes.
  { name: 'durable-reports', nodes: 10_000, extra: 1_000 },
  // §7 v1.1 bounded history: 100,000 sequential deployments, a point of the curve every 10,000 (`nodes` = deployments).
  { name: 'history', nodes: 100_000, extra: 10_000 },
  // The 100,000-node HTML report built through the CLI, then opened 5 times in Chromium; skipped (one line) without Chromium.
  { name: 'report', nodes: 100_000, extra: 5 },
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

function caseRow(r: Exclude<CaseResult, PostgresStoreResult | PostgresFailoverResult | HistoryResult>): string[] {
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
    case 'cli-rolling':
      return [
        `${r.case} (whole process)`,
        num(r.nodes),
        `${time(r.wall_ms)} (floor ${time(r.floor_wall_ms)})`,
        `${time(r.cpu_ms)} (floor ${time(r.floor_cpu_ms)})`,
        '-',
        `${mib(r.peak_rss)} (floor ${mib(r.floor_peak_rss)})`,
        '-',
        `${r.ratio.toFixed(2)}x (cpu ${r.cpu_ratio.toFixed(2)}x)`,
      ];
    case 'harness-canary':
      return [r.case, num(r.nodes), time(r.wall_ms), time(r.cpu_ms), `${num(r.trace_events)} trace events`, mib(r.peak_rss), '-', '-'];
    case 'tune-cli':
      return [`${r.case} (${num(r.candidates)} policies)`, num(r.nodes), time(r.wall_ms), time(r.cpu_ms), `${num(r.simulated_runs)} runs`, '-', '-', '-'];
    case 'durable-reports':
      return [
        `${r.case} (SQLite FULL: batches of ${num(r.batch)}; agents' own calls, group commit)`,
        num(r.nodes),
        time(r.wall_ms),
        '-',
        `${rate(r.per_s)} durable reports, p99 ${(r.latency.p99_us / 1000).toFixed(2)} ms a batch; batches arriving at ${rate(r.batch_open.target_per_s)} p50 ${(r.batch_open.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(r.batch_open.latency.p99_us / 1000).toFixed(2)} ms; agents ${rate(r.agents.per_s)} (arriving at ${rate(r.agents.target_per_s)}) in ${num(r.agents.commits)} commits, arrival to effects p50 ${(r.agents.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(r.agents.latency.p99_us / 1000).toFixed(2)} ms (the floor, the same arrivals appended to a file and fsync-ed: p50 ${(r.durable_floor.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(r.durable_floor.latency.p99_us / 1000).toFixed(2)} ms; after ${r.warmup_ms} ms of the same load, whose p99 was ${(r.batch_open.first_second.p99_us / 1000).toFixed(2)} ms for batches and ${(r.agents.first_second.p99_us / 1000).toFixed(2)} ms for agents)`,
        '-',
        '-',
        '-',
      ];
    case 'report':
      return [`${r.case} (simulate --report, then ${r.opens_ms.length} opens in Chromium)`, num(r.nodes), `${time(r.build_wall_ms)} to build`, '-', `${(r.bytes / 1024).toFixed(1)} KiB, open p50 ${time(r.open_p50_ms)} (max ${time(r.open_max_ms)})`, '-', '-', '-'];
    case 'monte-carlo':
      return [`${r.case} (${num(r.runs)} runs)`, num(r.nodes), time(r.wall_ms), time(r.cpu_ms), `${rate(r.events_per_s)} est., ${r.runs_per_s.toFixed(0)} runs/s`, mib(r.peak_rss), '-', '-'];
  }
}

/** The PostgreSQL store's figures: durable appends of health reports, and the lease's failover. */
function postgresLines(r: PostgresStoreResult): string[] {
  const appends = (label: string, f: PostgresStoreResult['one_at_a_time']): string =>
    row([label, num(f.entries), time(f.wall_ms), time(f.cpu_ms), `${num(Math.round(f.per_s))}/s`, num(f.commits), `p50 ${(f.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(f.latency.p99_us / 1000).toFixed(2)} ms`]);
  const { failover: fo } = r;
  return [
    `PostgreSQL store (${r.server}; entries of ${r.entry_bytes} B):`,
    row(['appends', 'entries', 'wall time', 'cpu time', 'durable appends', 'commits', 'append to durable']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---']),
    appends('one at a time', r.one_at_a_time),
    appends(`batches of ${num(r.batched.batch)}`, r.batched),
    appends(`${num(r.concurrent.agents)} concurrent agents`, r.concurrent),
    appends(`${num(r.engine.agents)} agents through an engine replica (${num(r.engine.nodes)} nodes, group commit)`, r.engine),
    `failover over ${fo.trials} SIGKILLed leaders (lease ${fo.lease_ms} ms, renewal ${fo.renew_ms} ms): lease expiry to standby's acquire p50 ${fo.after_expiry.p50_ms} ms, p99 ${fo.after_expiry.p99_ms} ms, max ${fo.after_expiry.max_ms} ms (database time); kill to acquire p50 ${fo.after_kill.p50_ms} ms, p99 ${fo.after_kill.p99_ms} ms`,
    '',
  ];
}

/** §7a: the engine replicas' failover, leader's death to the standby's first decision. */
function failoverLines(r: PostgresFailoverResult): string[] {
  const f = (x: PostgresFailoverResult['restore']): string => `p50 ${x.p50_ms} ms, p99 ${x.p99_ms} ms, max ${x.max_ms} ms`;
  const firsts = Object.entries(r.first_decisions).map(([kind, n]) => `${kind} ${n}`).join(', ');
  return [
    `Engine failover over ${r.trials} SIGKILLed leaders (3 replica processes, lease ${r.lease_ms} ms, renewal ${r.renew_ms} ms, ${r.nodes} nodes, ${r.deployments} rolling deployments):`,
    `  kill to the standby's first decision ${f(r.kill_to_first_decision)}`,
    `  kill to lease granted ${f(r.kill_to_grant)}; restore (grant to acting) ${f(r.restore)}; first decisions: ${firsts}; decided by a second successor (the first lost its lease in turn): ${r.second_successor}`,
    '',
  ];
}

/** §7 v1.1: the bounded history's curve, one row per point, both stores side by side. */
function historyLines(r: HistoryResult): string[] {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
  return [
    `Bounded history (${num(r.deployments)} sequential deployments over ${r.jobs} jobs and ${r.nodes} nodes, historyLimit ${r.history_limit}, ${time(r.wall_ms)}):`,
    row(['deployments', 'memory: heap', 'store size', 'reopen', 'kept', 'sqlite: heap', 'db size', 'reopen', 'kept']),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...r.memory.map((m, i) => {
      const s = r.sqlite[i]!;
      return row([num(m.deployments), mib(m.heap_used), kib(m.store_bytes), time(m.reopen_ms), num(m.kept_deployments), mib(s.heap_used), kib(s.store_bytes), time(s.reopen_ms), num(s.kept_deployments)]);
    }),
    '',
  ];
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
/** A filter naming a case exactly selects that case alone (`report` is not `durable-reports`); otherwise any case containing it. */
const matches = (c: CaseRun, f: string): boolean => (CASES.some((other) => other.name === f) ? c.name === f : c.name.includes(f));
const selected = CASES.filter((c) => filters.length === 0 || filters.some((f) => matches(c, f)));
const results: CaseResult[] = [];
const errors: Array<{ run: CaseRun; error: string }> = [];
/** The 1-minute load average before each case: above the core count, wall times stretch past CPU times. */
const loads: number[] = [];
const skipped: string[] = [];
const ran: CaseRun[] = [];
for (const run of selected) {
  if (run.name.startsWith('postgres-') && findPostgresBin() === null) {
    skipped.push(`skipped ${run.name}: ${POSTGRES_MISSING}`);
    continue;
  }
  if (run.name === 'report' && CHROMIUM_MISSING !== null) {
    skipped.push(`${run.name} ${CHROMIUM_MISSING}`);
    continue;
  }
  ran.push(run);
  process.stderr.write(`bench: ${run.name}${run.nodes > 0 ? ` ${num(run.nodes)} ${run.name === 'history' ? 'deployments' : 'nodes'}` : ''} ...\n`);
  loads.push(Number(loadavg()[0]!.toFixed(2)));
  const outcome = await runChild(run);
  if ('error' in outcome) errors.push({ run, error: outcome.error });
  else results.push(outcome);
}

const verdicts = judgeTargets(results);
const caseRows = results
  .filter((r): r is Exclude<CaseResult, PostgresStoreResult | PostgresFailoverResult | HistoryResult> => r.case !== 'postgres-store' && r.case !== 'postgres-failover' && r.case !== 'history')
  .map((r) => row(caseRow(r)));
const lines = [
  ...(caseRows.length === 0
    ? []
    : [row(['case', 'nodes', 'wall time', 'cpu time', 'events/s', 'peak RSS', 'heap/node', 'vs loop']), row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']), ...caseRows, '']),
  ...results.filter((r): r is PostgresStoreResult => r.case === 'postgres-store').flatMap(postgresLines),
  ...results.filter((r): r is PostgresFailoverResult => r.case === 'postgres-failover').flatMap(failoverLines),
  ...results.filter((r): r is HistoryResult => r.case === 'history').flatMap(historyLines),
  ...skipped,
  row(['issue', 'target', 'figure', 'verdict', 'by CPU time']),
  row(['---', '---', '---', '---', '---']),
  ...verdicts.map((v) => row(verdictRow(v))),
  '',
  'command: npm run bench',
  ...ran.map((run) => `  node ${argsOf(run).join(' ').replace(CASE_FILE, 'dist/bench/case.js')}`),
  ...results.flatMap((r) => (r.case === 'tune-cli' ? [`  tune-cli times: ${r.command}`, ...(r.recheck === null ? [] : [`  tune-cli re-check: ${r.recheck.command}`])] : [])),
  ...results.flatMap((r) => (r.case === 'report' ? [`  report: ${r.command}`] : [])),
  `machine: ${Object.entries(machine(loads)).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ...errors.map(({ run, error }) => `FAILED ${run.name} ${run.nodes}: ${error}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
writeFileSync(RESULTS_FILE, `${JSON.stringify({ format: 1, command: 'npm run bench', machine: machine(loads), load_1min_before_cases: loads, cases: results, targets: verdicts, errors }, null, 2)}\n`);
process.stdout.write(`results: ${RESULTS_FILE}\n`);
if (errors.length > 0) process.exitCode = 1;
