/**
 * The one table of commands. Each action loads its command module only when
 * used, calls a plain function that returns data, prints it, and says which
 * exit code the outcome means; errors become exit codes in `reportError`.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ExitCode, reportError } from './errors.js';
import type { CliIO } from './io.js';
import { colorsFor } from './print/colors.js';
import { safeLines } from './print/safeText.js';
import { packageVersion } from './version.js';

const EXAMPLES = `
Examples:
  $ fleet-rollout validate examples/jobs/log-processor-canary.yaml
  $ fleet-rollout targets examples/jobs/log-processor.yaml --fleet examples/fleets/production.yaml
  $ fleet-rollout simulate simulations/canary-production.yaml --runs 200 --json

Exit codes: 0 success, 1 the run itself broke, 2 bad input (on standard error). FILE may be "-" (stdin).`;

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function buildProgram(io: CliIO, exitWith: (code: number) => void): Command {
  const program = new Command('fleet-rollout')
    .description('Plan, rehearse, follow and replay rollouts of jobs to fleets of edge nodes.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Commander quotes the arguments it refuses: made safe like every user text.
      outputError: (text, write) => write(`fleet-rollout: ${safeLines(text)}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXAMPLES);

  program
    .command('validate')
    .summary('check a JobSpec (exit 0 valid, 2 invalid)')
    .description('Check a JobSpec (JSON or YAML) and report every problem with the path of its field.')
    .argument('<file>', 'JobSpec file, or "-" for standard input')
    .option('--json', 'print {"valid", "spec" | "errors", "warnings", "policy"} as JSON')
    .option('--fleet <fleet>', 'a fleet (or scenario) to count the targeted nodes, canaries and failures tolerated on')
    .addHelpText('after', '\nExample:\n  $ fleet-rollout validate examples/jobs/log-processor-canary.yaml --fleet examples/fleets/production.yaml')
    .action(async (file: string, options: { json?: boolean; fleet?: string }) => {
      const { validateCommand } = await import('./commands/validate.js');
      const print = await import('./print/validate.js');
      const outcome = await validateCommand({ file, fleet: options.fleet }, io);
      if (options.json) {
        io.stdout.write(print.validateJson(outcome));
        io.stderr.write(print.invalidSummary(outcome));
      } else {
        const stream = outcome.result.valid ? io.stdout : io.stderr;
        stream.write(print.validateReport(outcome, colorsFor(stream, io.env)));
      }
      exitWith(outcome.result.valid ? ExitCode.Ok : ExitCode.BadInput);
    });

  program
    .command('targets')
    .summary('the nodes a JobSpec targets, in rollout order')
    .description('List the nodes a JobSpec would target on a fleet, in rollout order (connected nodes matching its selector).')
    .argument('<file>', 'JobSpec file, or "-" for standard input')
    .requiredOption('--fleet <fleet>', 'a fleet block file ({nodes, groups}) or a scenario with a fleet key')
    .option('--json', 'print {"targets": [ids]} as JSON')
    .addHelpText('after', '\nExample:\n  $ fleet-rollout targets examples/jobs/log-processor.yaml --fleet examples/fleets/production.yaml')
    .action(async (file: string, options: { fleet: string; json?: boolean }) => {
      const { targetsCommand } = await import('./commands/targets.js');
      const print = await import('./print/targets.js');
      const outcome = await targetsCommand({ file, fleet: options.fleet }, io);
      io.stderr.write(print.targetsWarnings(outcome, colorsFor(io.stderr, io.env)));
      io.stdout.write(options.json ? print.targetsJson(outcome) : print.targetsReport(outcome, colorsFor(io.stdout, io.env)));
      exitWith(ExitCode.Ok);
    });

  program
    .command('simulate')
    .summary('run a what-if rollout in virtual time')
    .description('Run a what-if rollout of a scenario (fleet, versions, behavior, events) in virtual time.')
    .argument('<scenario>', 'scenario file (YAML or JSON), or "-" for standard input')
    .option('--seed <n>', 'pseudo-random seed (overrides the scenario\'s)', integer('--seed', 0))
    .option('--runs <n>', 'run N times (at most 1,000,000) with seeds seed, seed+1, ... and aggregate', integer('--runs', 1))
    .option('--json', 'print the outcome (or the aggregate) as JSON')
    .option('--trace <file>', 'write the trace, one JSON event a line; "-" for standard output (the summary then goes to standard error)')
    .option('--by <label>', 'break the node counts and failures down by the values of this label, e.g. --by region')
    .option('--report <file>', 'write a self-contained HTML report (charts, phases, labels; histograms with --runs)')
    .option('--release <case>', 'play this release case (good or bad) of the scenario in every run')
    .option('--no-progress', 'no progress on standard error (by default: a bar on a terminal, else a line every 5 s of a long run)')
    .addHelpText('after', '\nExamples:\n  $ fleet-rollout simulate simulations/canary-production.yaml --seed 7 --trace trace.jsonl\n  $ fleet-rollout simulate simulations/flaky-region.yaml --runs 200 --by region\n  $ fleet-rollout simulate simulations/canary-production.yaml --report report.html')
    .action(async (scenario: string, options: { seed?: number; runs?: number; json?: boolean; trace?: string; by?: string; report?: string; release?: string; progress: boolean }) => {
      const { simulateCommand } = await import('./commands/simulate.js');
      const print = await import('./print/simulate.js');
      const { progressReporter } = await import('./print/progress.js');
      const progress = progressReporter(io.stderr, options.progress);
      const outcome = await simulateCommand({ scenario, seed: options.seed, runs: options.runs, trace: options.trace, by: options.by, report: options.report, release: options.release }, io, progress);
      io.stderr.write(print.problemsText(outcome.warnings));
      if (!outcome.ok) {
        io.stderr.write(print.problemsText(outcome.errors));
        return exitWith(ExitCode.BadInput);
      }
      // With --trace -, standard output holds the trace alone.
      const stream = outcome.kind === 'run' && outcome.traceOnStdout ? io.stderr : io.stdout;
      const colors = colorsFor(stream, io.env);
      if (outcome.kind === 'runs') {
        stream.write(options.json ? print.aggregateJson(outcome.aggregate) : print.aggregateReport(outcome.source, outcome.description, outcome.aggregate, colors));
      } else {
        stream.write(options.json ? print.resultJson(outcome.result) : print.resultReport(outcome.source, outcome.description, outcome.result, colors));
      }
      exitWith(ExitCode.Ok);
    });

  program
    .command('watch')
    .summary('watch a live rollout; exits with its outcome')
    .description('Follow a real rollout, read-only and without the lease, from the store of the engine running it (a SQLite file or a PostgreSQL URL): phase, window, counts, failure budget left, latest failures. Ends when the job\'s latest deployment ends.')
    .argument('[job]', 'namespace/name (a bare name means the default namespace); default: the most recently created deployment')
    .requiredOption('--store <path-or-url>', 'the engine\'s store: a SQLite file, or postgresql://user@host/db')
    .option('--schema <name>', 'PostgreSQL schema of the store (default fleet_rollout)')
    .option('--interval <duration>', 'how often to look at the store', '500ms')
    .option('--timeout <duration>', 'give up after this long (exit 6)')
    .addHelpText('after', `
Exit codes: 0 completed, 3 failed (no rollback), 4 rolled back, 5 canceled (aborted or superseded),
6 --timeout reached, 2 bad input (no such store, unknown job), 1 the watch itself broke.

Examples:
  $ fleet-rollout watch --store rollout.db edge/telemetry --timeout 30m
  $ fleet-rollout watch --store postgresql://rollout@db.internal/fleet edge/telemetry`)
    .action(async (job: string | undefined, options: { store: string; schema?: string; interval: string; timeout?: string }) => {
      const { watchCommand } = await import('./commands/watch.js');
      exitWith(await watchCommand({ store: options.store, job: job ?? null, interval: options.interval, timeout: options.timeout ?? null, schema: options.schema }, io));
    });

  program
    .command('status')
    .summary('every deployment in a store, and who leads')
    .description('Show every deployment (or the job\'s) from the store of an engine, read-only and without the lease: a SQLite file or a PostgreSQL URL; for PostgreSQL also the lease holder and epoch.')
    .argument('[job]', 'namespace/name (a bare name means the default namespace), or a deployment id; default: every deployment')
    .requiredOption('--store <path-or-url>', 'the engine\'s store: a SQLite file, or postgresql://user@host/db')
    .option('--schema <name>', 'PostgreSQL schema of the store (default fleet_rollout)')
    .option('--json', 'print {"store", "kind", "lease", "deployments", "read_at"} as JSON')
    .addHelpText('after', '\nExamples:\n  $ fleet-rollout status --store rollout.db\n  $ fleet-rollout status --store postgresql://rollout@db.internal/fleet --json')
    .action(async (job: string | undefined, options: { store: string; schema?: string; json?: boolean }) => {
      const { statusCommand } = await import('./commands/status.js');
      exitWith(await statusCommand({ store: options.store, job: job ?? null, json: options.json === true, schema: options.schema }, io));
    });

  program
    .command('compare')
    .summary('compare rollout policies on the same draws')
    .description('Run a scenario under several policies (JobSpecs or deployment blocks) on the same random draws and show their figures side by side.')
    .argument('<scenario>', 'scenario file (YAML or JSON), or "-" for standard input')
    .option('--policy <file>', 'a JobSpec or a deployment block (repeat for each policy)', collect, [])
    .option('--runs <n>', 'runs per policy and release case (default 200)', integer('--runs', 1))
    .option('--seed <n>', 'base seed: run i uses seed + i (default: the scenario\'s)', integer('--seed', 0))
    .option('--json', 'print the comparison as JSON')
    .option('--report <file>', 'also write the comparison as a self-contained HTML page')
    .addHelpText('after', '\nExample:\n  $ fleet-rollout compare simulations/choose-canary.yaml --policy simulations/policies/canary-5.yaml --policy simulations/policies/canary-1.yaml')
    .action(async (scenario: string, options: { policy: string[]; runs?: number; seed?: number; json?: boolean; report?: string }) => {
      const { compareCommand } = await import('./commands/compare.js');
      exitWith(await compareCommand({ scenario, policies: options.policy, runs: options.runs, seed: options.seed, json: options.json === true, report: options.report }, io));
    });

  program
    .command('replay')
    .summary('replay a recorded rollout under another policy')
    .description(
      'Take what the nodes did in a rollout recorded in an engine\'s store (each node relative to its own start) and run it again under another policy; print both outcomes side by side. Nodes the recording never started get a behavior drawn from those it did.',
    )
    .argument('<recording>', 'the SQLite store of the engine that ran the rollout')
    .requiredOption('--policy <file>', 'a JobSpec of the same job, or a deployment block merged onto the recorded one')
    .option('--job <name>', 'the job to replay when the recording holds several (namespace/name; a bare name means the default namespace)')
    .option('--deployment <id>', 'the deployment to replay (default: the job\'s latest)')
    .option('--seed <n>', 'seed of the behaviors drawn for nodes the recording never started (default 1)', integer('--seed', 0))
    .option('--json', 'print both outcomes and the replay\'s assumptions as JSON')
    .addHelpText('after', '\nExample (rolling.yaml a deployment block, e.g. "strategy: rolling" and "max_parallel: 10"):\n  $ node dist/examples/orchestrator.js rollout.db\n  $ fleet-rollout replay rollout.db --policy rolling.yaml')
    .action(async (recording: string, options: { policy: string; job?: string; deployment?: string; seed?: number; json?: boolean }) => {
      const { replayCommand } = await import('./commands/replay.js');
      const print = await import('./print/replay.js');
      const outcome = await replayCommand({ recording, policy: options.policy, job: options.job, deployment: options.deployment, seed: options.seed }, io);
      io.stdout.write(options.json ? print.replayJson(outcome) : print.replayReport(outcome, colorsFor(io.stdout, io.env)));
      exitWith(ExitCode.Ok);
    });

  program
    .command('tune')
    .summary('find the fastest policy within risk budgets')
    .description('Search deployment policies for the fastest one that meets every risk budget, on the same random draws, on all cores.')
    .argument('<scenario>', 'scenario file (YAML or JSON), or "-" for standard input')
    .option('--budget <budget>', "a risk budget, e.g. 'exposed_p99<=2%' or 'false_abort<=1%' (repeat)", collect, [])
    .option('--vary <field=values>', 'values of a deployment field to search, e.g. canary_percent=1..20 or max_parallel=10,20,50 (repeat; default: a built-in space)', collect, [])
    .option('--runs <n>', 'runs per release case for a policy that stays in (default 100)', integer('--runs', 1))
    .option('--seed <n>', 'base seed: run i uses seed + i (default: the scenario\'s)', integer('--seed', 0))
    .option('--objective <metric>', 'what "fastest" minimizes (default duration_p50)')
    .option('--json', 'print the result as JSON')
    .option('--report <file>', 'also write the ranking (winner, runner-up, Pareto front) as a self-contained HTML page')
    .addHelpText('after', "\nExample:\n  $ fleet-rollout tune simulations/choose-canary.yaml --budget 'exposed_p99<=2%' --budget 'false_abort<=1%' --vary canary_percent=1..10 --vary max_parallel=10,20,50")
    .action(async (scenario: string, options: { budget: string[]; vary: string[]; runs?: number; seed?: number; objective?: string; json?: boolean; report?: string }) => {
      const { tuneCommand } = await import('./commands/tune.js');
      exitWith(
        await tuneCommand({ scenario, budgets: options.budget, varies: options.vary, runs: options.runs, seed: options.seed, objective: options.objective, json: options.json === true, report: options.report }, io),
      );
    });

  return program;
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A commander parser for an integer option >= `min`; a bad value is a usage error (exit 2). */
function integer(flag: string, min: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
      throw new InvalidArgumentError(`${flag} expects an integer >= ${min}, found "${text}"`);
    }
    return value;
  };
}
