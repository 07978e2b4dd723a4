/**
 * The simulator as a user runs it: the whole `fleet-rollout simulate` process
 * (`node dist/src/cli/main.js simulate FILE --json --no-progress`) on a
 * generated healthy rolling scenario of `nodes` nodes (workloads.ts), timed
 * beside the floor process (`node dist/bench/floor.js FILE`, baseline.ts) in
 * the same run: `rounds` rounds, each the floor then the CLI, figures are
 * medians. Both report how the rollout ended, so the bench checks that they
 * did the same work (same stable count, same virtual end time).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollingScenario } from '../workloads.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('../floor.js', import.meta.url));
const USAGE = fileURLToPath(new URL('../reportUsage.js', import.meta.url));

export interface ProcessRun {
  wall_ms: number;
  cpu_ms: number;
  peak_rss: number;
  stable: number;
  duration_s: number;
}

export interface CliRollingResult {
  case: 'cli-rolling';
  nodes: number;
  rounds: number;
  /** Medians. */
  wall_ms: number;
  cpu_ms: number;
  peak_rss: number;
  floor_wall_ms: number;
  floor_cpu_ms: number;
  floor_peak_rss: number;
  /** wall_ms / floor_wall_ms. */
  ratio: number;
  cpu_ratio: number;
  same_work: boolean;
  cli_runs: ProcessRun[];
  floor_runs: ProcessRun[];
  /** The commands, as a user would type them (FILE is the generated scenario). */
  commands: string[];
}

function measure(args: string[], dir: string): ProcessRun {
  const usageFile = join(dir, 'usage.json');
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', USAGE, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
  });
  const wall = performance.now() - start;
  if (child.status !== 0) throw new Error(`${args.join(' ')} exited ${child.status ?? child.signal}: ${child.stderr.slice(-500)}`);
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as { peak_rss: number; cpu_ms: number };
  const out = JSON.parse(child.stdout) as { stable: number; duration_s: number };
  return { wall_ms: wall, cpu_ms: usage.cpu_ms, peak_rss: usage.peak_rss, stable: out.stable, duration_s: out.duration_s };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function runCliRolling(nodes: number, rounds: number): CliRollingResult {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-bench-'));
  try {
    const file = join(dir, `rolling-${nodes}.json`);
    writeFileSync(file, rollingScenario(nodes));
    const cliArgs = [CLI, 'simulate', file, '--json', '--no-progress'];
    const floorArgs = [FLOOR, file];
    const cliRuns: ProcessRun[] = [];
    const floorRuns: ProcessRun[] = [];
    for (let round = 0; round < rounds; round += 1) {
      floorRuns.push(measure(floorArgs, dir));
      cliRuns.push(measure(cliArgs, dir));
    }
    const wall = median(cliRuns.map((r) => r.wall_ms));
    const floorWall = median(floorRuns.map((r) => r.wall_ms));
    const cpu = median(cliRuns.map((r) => r.cpu_ms));
    const floorCpu = median(floorRuns.map((r) => r.cpu_ms));
    return {
      case: 'cli-rolling',
      nodes,
      rounds,
      wall_ms: wall,
      cpu_ms: cpu,
      peak_rss: median(cliRuns.map((r) => r.peak_rss)),
      floor_wall_ms: floorWall,
      floor_cpu_ms: floorCpu,
      floor_peak_rss: median(floorRuns.map((r) => r.peak_rss)),
      ratio: wall / floorWall,
      cpu_ratio: cpu / floorCpu,
      same_work: cliRuns.every((r, i) => r.stable === nodes && r.stable === floorRuns[i]!.stable && r.duration_s === floorRuns[i]!.duration_s),
      cli_runs: cliRuns,
      floor_runs: floorRuns,
      commands: ['node dist/src/cli/main.js simulate FILE --json --no-progress', 'node dist/bench/floor.js FILE'],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
