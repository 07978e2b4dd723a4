/**
 * One bench case, run by run.ts in a fresh `node --expose-gc` process so its
 * memory figures are its own. Usage: `node --expose-gc dist/bench/case.js
 * <engine-rolling|sim-rolling|monte-carlo|postgres-store|postgres-failover|cli-rolling|harness-canary|tune-cli|durable-reports|history|report> <nodes|deployments> [repeats|runs|failover trials (postgres-store, postgres-failover)|rounds|batch|curve step|opens]`.
 * Prints one line, `RESULT <json>`, on standard output.
 */
import { runCliRolling } from './cases/cliRolling.js';
import { runDurableReports } from './cases/durableReports.js';
import { runEngineRolling } from './cases/engineRolling.js';
import { runHarnessCanary } from './cases/harnessCanary.js';
import { runHistory } from './cases/history.js';
import { runMonteCarloCanary } from './cases/monteCarloCanary.js';
import { runPostgresFailover } from './cases/postgresFailover.js';
import { runPostgresStore } from './cases/postgresStore.js';
import { runReportOpen } from './cases/reportOpen.js';
import { runSimRolling } from './cases/simRolling.js';
import { runTuneCli } from './cases/tuneCli.js';
import { resultLine } from './resultLine.js';

async function main(name: string | undefined, nodes: number, extra: number | undefined): Promise<object> {
  switch (name) {
    case 'engine-rolling':
      return runEngineRolling(nodes);
    case 'sim-rolling':
      return runSimRolling(nodes, extra ?? 1);
    case 'monte-carlo':
      return runMonteCarloCanary(nodes, extra ?? 1000);
    case 'postgres-store':
      return runPostgresStore(extra ?? 50);
    case 'postgres-failover':
      return runPostgresFailover(extra ?? 50);
    case 'cli-rolling':
      return runCliRolling(nodes, extra ?? 1);
    case 'harness-canary':
      return runHarnessCanary(nodes);
    case 'tune-cli':
      return runTuneCli();
    case 'durable-reports':
      return runDurableReports(nodes, extra ?? 1000);
    case 'history':
      // `nodes` is the number of deployments here; `extra` how often the curve gets a point.
      return runHistory(nodes, extra ?? 10_000);
    case 'report':
      // The fixture sets the nodes (100,000); `extra` is how many times the page is opened.
      return runReportOpen(extra ?? 5);
    default:
      throw new Error(`unknown bench case ${JSON.stringify(name)}: engine-rolling, sim-rolling, monte-carlo, postgres-store, postgres-failover, cli-rolling, harness-canary, tune-cli, durable-reports, history or report`);
  }
}

const [name, nodes, extra] = process.argv.slice(2);
const result = await main(name, Number(nodes), extra === undefined ? undefined : Number(extra));
process.stdout.write(resultLine(result));
