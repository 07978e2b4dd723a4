/**
 * `fleet-rollout tune` as users run it: the whole CLI process (compiled
 * dist/src/cli/main.js) on simulations/choose-canary.yaml (2,000 nodes, a
 * good and a bad release case) over 288 candidate policies, timed from spawn
 * to exit, with the CPU time of the child (its threads included) from
 * /proc/self/stat. Then the winner is re-checked with `simulate --runs 1000`
 * on each release case: exposed p99 of the bad release and the false-abort
 * rate of the good one, against the budgets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const MAIN = join(REPO, 'dist', 'src', 'cli', 'main.js');
const SCENARIO = 'simulations/choose-canary.yaml';
export const TUNE_ARGS = [
  'tune', SCENARIO,
  '--budget', 'exposed_p99<=2%', '--budget', 'false_abort<=1%',
  '--vary', 'canary_percent=1,2,5,10', '--vary', 'max_parallel=20,50,100,200', '--vary', 'max_failed_nodes=2,20',
  '--vary', 'max_failed_nodes_percent=1,5,10', '--vary', 'min_healthy_time=30s,1m,2m',
];
const RECHECK_RUNS = 1000;

export interface TuneCliResult {
  case: 'tune-cli';
  nodes: number;
  candidates: number;
  threads: number;
  wall_ms: number;
  cpu_ms: number;
  simulated_runs: number;
  command: string;
  winner: Record<string, unknown> | null;
  recheck: { command: string; exposed_p99_pct: number; false_abort: number; meets: boolean } | null;
}

/** CPU time of this process's waited-for children (user + system), from /proc (Linux); 0 elsewhere. */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": field 3 is state, so cutime (16) and cstime (17) are at 13 and 14.
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}

function cli(args: string[]): { stdout: string; wall_ms: number; cpu_ms: number } {
  const cpu = childrenCpuMs();
  const start = performance.now();
  const run = spawnSync(process.execPath, [MAIN, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wall = performance.now() - start;
  if (run.status !== 0) throw new Error(`fleet-rollout ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return { stdout: run.stdout, wall_ms: wall, cpu_ms: childrenCpuMs() - cpu };
}

export function runTuneCli(): TuneCliResult {
  const tuned = cli([...TUNE_ARGS, '--json']);
  const result = JSON.parse(tuned.stdout) as { candidates: number; targeted: number; simulated_runs: number; winner: { deployment: Record<string, unknown> } | null };
  const quoted = TUNE_ARGS.map((arg) => (/[<>%=]/.test(arg) ? `'${arg}'` : arg)).join(' ');
  return {
    case: 'tune-cli',
    nodes: result.targeted,
    candidates: result.candidates,
    threads: availableParallelism(),
    wall_ms: tuned.wall_ms,
    cpu_ms: tuned.cpu_ms,
    simulated_runs: result.simulated_runs,
    command: `time npx fleet-rollout ${quoted}`,
    winner: result.winner?.deployment ?? null,
    recheck: result.winner === null ? null : recheck(result.winner.deployment, result.targeted),
  };
}

/** The scenario with the winner as its job's deployment block, simulated 1,000 times per release case. */
function recheck(deployment: Record<string, unknown>, targeted: number): TuneCliResult['recheck'] {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  try {
    const scenario = parse(readFileSync(join(REPO, SCENARIO), 'utf8')) as Record<string, unknown>;
    const job = parse(readFileSync(join(REPO, 'simulations', scenario.job as string), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'winner-job.yaml'), stringify({ ...job, deployment }));
    const file = join(dir, 'winner.yaml');
    writeFileSync(file, stringify({ ...scenario, previous: join(REPO, 'simulations', scenario.previous as string), job: join(dir, 'winner-job.yaml') }));
    const aggregate = (release: string) => JSON.parse(cli(['simulate', file, '--runs', String(RECHECK_RUNS), '--release', release, '--json']).stdout) as { runs: number; outcomes: Record<string, number>; exposed: { p99: number } };
    const bad = aggregate('bad');
    const good = aggregate('good');
    const exposedPct = (100 * bad.exposed.p99) / targeted;
    const falseAbort = (good.runs - (good.outcomes.completed ?? 0)) / good.runs;
    return {
      command: `fleet-rollout simulate WINNER.yaml --runs ${RECHECK_RUNS} --release bad|good --json (WINNER.yaml: ${SCENARIO} with the winner as the job's deployment block)`,
      exposed_p99_pct: Math.round(exposedPct * 1000) / 1000,
      false_abort: Math.round(falseAbort * 10000) / 10000,
      meets: exposedPct <= 2 && falseAbort <= 0.01,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
