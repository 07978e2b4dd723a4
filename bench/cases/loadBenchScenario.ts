/** Loads a scenario the bench writes in code, through the simulator's own loader (contract §9). */
import { loadScenario, type Scenario } from '../../src/sim/scenario.js';

export async function loadBenchScenario(json: string, name: string): Promise<Scenario> {
  const loaded = await loadScenario(json, name, async () => ({ ok: false, message: 'the bench inlines every JobSpec' }));
  if (!loaded.ok) throw new Error(`bench scenario ${name} is invalid: ${JSON.stringify(loaded.errors)}`);
  return loaded.scenario;
}
