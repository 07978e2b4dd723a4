/**
 * Options of the PostgreSQL store, checked before anything connects: an
 * unknown key (a typo) or a value out of range is a `PostgresStoreError`
 * naming the field.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PostgresStoreError } from './errors.js';

/** 15 s, as Kubernetes leader election (Argo Rollouts, Flagger): a standby takes over at most this long after the leader died. */
export const DEFAULT_LEASE_MS = 15_000;
/** 5 s: a third of the lease, so two renewals in a row may fail before the lease runs out. */
export const DEFAULT_RENEW_MS = 5_000;
export const DEFAULT_SCHEMA = 'fleet_rollout';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

const observerShape = {
  /** `postgresql://user:password@host:port/database` (libpq style, `?host=/socket/dir` for a Unix socket). */
  connectionString: z.string().min(1),
  /** The PostgreSQL schema holding the store's tables; several stores may share a database under different schemas. */
  schema: z.string().regex(IDENTIFIER, 'must be a lower-case SQL identifier (letters, digits, _)').default(DEFAULT_SCHEMA),
};

const storeSchema = z
  .strictObject({
    ...observerShape,
    /** How long a lease lasts after its last renewal, in database time. */
    leaseMs: z.int().min(100).max(3_600_000).default(DEFAULT_LEASE_MS),
    /** How often the leader renews. At most half the lease, so one failed renewal can be retried in time. */
    renewMs: z.int().min(10).default(DEFAULT_RENEW_MS),
    /** This replica's name in the lease row; unique per process (the default is host/pid/random). */
    holder: z.string().min(1).max(200).optional(),
  })
  .refine((o) => o.renewMs * 2 <= o.leaseMs, { path: ['renewMs'], message: 'must be at most half of leaseMs' });

const observerSchema = z.strictObject(observerShape);

export type PostgresStoreOptions = z.input<typeof storeSchema>;
export type PostgresObserverOptions = z.input<typeof observerSchema>;

export interface ResolvedStoreOptions {
  connectionString: string;
  schema: string;
  leaseMs: number;
  renewMs: number;
  holder: string;
}

export function resolveStoreOptions(options: PostgresStoreOptions): ResolvedStoreOptions {
  const parsed = parse(storeSchema, options, 'PostgresStore options');
  return { ...parsed, holder: parsed.holder ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}` };
}

export function resolveObserverOptions(options: PostgresObserverOptions): { connectionString: string; schema: string } {
  return parse(observerSchema, options, 'PostgresObserver options');
}

function parse<T extends z.ZodType>(schema: T, options: unknown, what: string): z.output<T> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new PostgresStoreError(what, `${issue.keys.join(', ')}: unknown option (a typo?); the options are ${Object.keys(knownKeys(schema)).join(', ')}`);
  }
  throw new PostgresStoreError(what, `${issue.path.join('.') || 'options'}: ${issue.message} (got ${valueAt(options, issue.path)})`);
}

function knownKeys(schema: z.ZodType): Record<string, unknown> {
  return schema instanceof z.ZodObject ? schema.shape : {};
}

function valueAt(options: unknown, path: PropertyKey[]): string {
  let value: unknown = options;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return JSON.stringify(value) ?? 'undefined';
}

/** The database and schema, for messages; the password never appears. */
export function describeTarget(connectionString: string, schema: string): string {
  return `${connectionString.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')} (schema ${schema})`;
}
