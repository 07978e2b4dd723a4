/**
 * `status --store PATH_OR_URL [JOB] [--json]`: every deployment an engine's
 * store holds (or the job's), read once, read-only and without the lease
 * (storeSource.ts); for a PostgreSQL store also who leads and in which epoch
 * (contract §7a). Printing is in print/status.ts.
 */
import { RealClock, type DeploymentStatus } from '../../engine/index.js';
import type { LeaseView } from '../../engine/store/postgresObserver.js';
import { ExitCode, InputError, reportError } from '../errors.js';
import type { CliIO } from '../io.js';
import { colorsFor } from '../print/colors.js';
import { statusJson, statusReport } from '../print/status.js';
import { deploymentsIn, openStoreSource, UNCHANGED } from '../storeSource.js';
import { resolveJob } from '../watch/view.js';

export interface StatusArgs {
  store: string;
  job: string | null;
  json: boolean;
  schema?: string;
}

export interface StoreStatus {
  /** The store as given (a URL without its password). */
  store: string;
  kind: 'sqlite' | 'postgresql';
  /** PostgreSQL: who holds the lease now and the epoch of the last leader; null for SQLite (one writing process). */
  lease: LeaseView | null;
  /** Oldest first (by creation); only the job's when a job was asked for. */
  deployments: DeploymentStatus[];
  /** When the store was read (ms since the epoch). */
  read_at: number;
}

export async function statusCommand(args: StatusArgs, io: CliIO): Promise<number> {
  try {
    const status = await readStatus(args, io.cwd);
    io.stdout.write(args.json ? statusJson(status) : statusReport(status, colorsFor(io.stdout, io.env)));
    return ExitCode.Ok;
  } catch (error) {
    return reportError(error, io);
  }
}

export async function readStatus(args: Omit<StatusArgs, 'json'>, cwd: string): Promise<StoreStatus> {
  const source = await openStoreSource(args.store, cwd, { schema: args.schema });
  try {
    const state = await source.read();
    const lease = await source.lease();
    const now = new RealClock().now();
    const all = deploymentsIn(state === UNCHANGED ? null : state, now).sort((a, b) => a.created_at - b.created_at);
    return { store: source.name, kind: source.kind, lease, deployments: args.job === null ? all : ofJob(all, args.job, source.name), read_at: now };
  } finally {
    await source.close();
  }
}

/** A job the store does not hold is bad input, naming the jobs it does hold. */
function ofJob(all: DeploymentStatus[], job: string, store: string): DeploymentStatus[] {
  const jobs = [...new Set(all.map((d) => d.job))].sort();
  const wanted = resolveJob(job, jobs);
  const found = all.filter((d) => d.job === wanted || d.id === wanted);
  if (found.length === 0) throw InputError.single(store, `no deployment of job ${job}; ${jobs.length === 0 ? 'the store holds no deployment yet' : `jobs in the store: ${jobs.join(', ')}`}`);
  return found;
}
