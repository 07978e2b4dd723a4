/**
 * A throwaway PostgreSQL cluster for the tests and the bench: `initdb` into a
 * fresh temporary folder, `pg_ctl start` on a private Unix socket (no TCP, so
 * no port can clash), `stop()` kills it and removes the folder. It lives here,
 * in the compiled bench, because `npm run bench` needs it too; the tests
 * import it through test/support/postgres.ts.
 *
 * PostgreSQL refuses to run as root: as root the server runs as the
 * `postgres` user (Debian's package creates it) in a folder that user can
 * reach, never under a 0700 one; otherwise it runs as the current user.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** Why a test file or bench case is skipped, and how to get it to run: printed on one line. */
export const POSTGRES_MISSING =
  'PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or $FLEET_ROLLOUT_PG_BIN): `apt-get install -y postgresql` (Debian/Ubuntu; .ci/run does this), then run again';

const DEBIAN_BIN_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'fleet';

/** The folder holding `initdb` and `pg_ctl` (newest Debian version), or null when PostgreSQL is not installed. */
export function findPostgresBin(): string | null {
  const fromEnv = process.env.FLEET_ROLLOUT_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return hasServer(fromEnv) ? fromEnv : null;
  if (!existsSync(DEBIAN_BIN_ROOT)) return null;
  const versions = readdirSync(DEBIAN_BIN_ROOT)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(DEBIAN_BIN_ROOT, version, 'bin');
    if (hasServer(bin)) return bin;
  }
  return null;
}

function hasServer(bin: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(join(bin, tool)));
}

export interface PostgresCluster {
  /** `postgresql://` URL of `database` (default `postgres`) over the private socket. */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  readonly dataDir: string;
  /** Stops the server (immediate shutdown) and removes its folder; safe to call twice. */
  stop(): void;
}

export interface StartOptions {
  /** Extra `postgresql.conf` settings, e.g. `{ shared_buffers: '64MB' }`. */
  settings?: Record<string, string>;
}

export async function startPostgresCluster(options: StartOptions = {}): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === null) throw new Error(POSTGRES_MISSING);
  const runAs = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const base = makeBaseFolder(runAs.length > 0);
  const dataDir = join(base, 'data');
  const socketDir = base;
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  let started = false;
  const run = (tool: string, args: string[]): void => {
    const [command, ...prefix] = [...runAs, join(bin, tool)];
    execFileSync(command!, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  };
  const stop = (): void => {
    process.off('exit', stop);
    if (started) {
      started = false;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone: nothing to stop.
      }
    }
    rmSync(base, { recursive: true, force: true });
  };
  // A test worker that exits without its afterAll still leaves no server behind.
  process.on('exit', stop);
  try {
    run('initdb', ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const settings: Record<string, string> = {
      listen_addresses: "''",
      unix_socket_directories: `'${socketDir}'`,
      port: String(port),
      max_connections: '50',
      shared_buffers: "'32MB'",
      ...options.settings,
    };
    appendFileSync(join(dataDir, 'postgresql.conf'), Object.entries(settings).map(([key, value]) => `${key} = ${value}\n`).join(''));
    started = true;
    run('pg_ctl', ['-D', dataDir, '-l', join(base, 'server.log'), '-w', '-t', '60', 'start']);
  } catch (error) {
    stop();
    const detail = error as { stderr?: string; message: string };
    throw new Error(`could not start a throwaway PostgreSQL in ${base}: ${detail.stderr?.trim() || detail.message}`);
  }
  const url = (database = 'postgres'): string =>
    `postgresql://${SUPERUSER}@/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDir)}&port=${port}`;
  return {
    url,
    dataDir,
    stop,
    async createDatabase(name) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
  };
}

/**
 * A fresh folder the server's user can enter and write. As root that is the
 * `postgres` user: the temporary folder may sit under a 0700 one (a private
 * TMPDIR), so the candidates are tried in turn and checked as that user.
 */
function makeBaseFolder(asPostgresUser: boolean): string {
  if (!asPostgresUser) return mkdtempSync(join(tmpdir(), 'fleet-rollout-pg-'));
  const postgres = userUid('postgres');
  for (const parent of [...new Set([tmpdir(), '/tmp', '/var/tmp'])]) {
    let folder: string;
    try {
      folder = mkdtempSync(join(parent, 'fleet-rollout-pg-'));
    } catch {
      continue;
    }
    chownSync(folder, postgres.uid, postgres.gid);
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-w', folder, '-a', '-x', folder], { stdio: 'ignore' });
      return folder;
    } catch {
      rmSync(folder, { recursive: true, force: true });
    }
  }
  throw new Error('no temporary folder the `postgres` user can reach (tried TMPDIR, /tmp, /var/tmp)');
}

function userUid(name: string): { uid: number; gid: number } {
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(`running as root (${userInfo().username}) needs the \`${name}\` user to run the server; Debian's postgresql package creates it`);
  }
}
