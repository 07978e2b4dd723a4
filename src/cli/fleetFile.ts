/** Reading a FLEET argument (`targets --fleet`, `validate --fleet`): a fleet block file, or a scenario with a `fleet` key. */
import type { FleetNode } from '../selector/index.js';
import { parseFleet } from '../sim/fleet.js';
import { parseDocument } from '../spec/index.js';
import { InputError } from './errors.js';
import { FLEET_INPUT, readInput } from './input.js';
import type { CliIO } from './io.js';

export interface FleetFile {
  /** The file as named on the command line, or `<stdin>`. */
  source: string;
  nodes: FleetNode[];
}

/** @throws InputError for an unreadable file or an invalid fleet. */
export async function readFleetFile(file: string, io: CliIO): Promise<FleetFile> {
  const { source, bytes } = await readInput(file, FLEET_INPUT, io);
  return { source, nodes: loadFleet(bytes, source) };
}

/** FLEET is either a scenario (its `fleet` key, contract §9) or a file holding just the fleet block. */
function loadFleet(bytes: Uint8Array, source: string): FleetNode[] {
  const document = parseDocument(bytes, source);
  if (!document.ok) throw new InputError(source, [document.problem]);
  const { value } = document;
  const isScenario = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'fleet');
  const fleet = isScenario ? parseFleet((value as { fleet: unknown }).fleet, 'fleet') : parseFleet(value, '');
  if (!fleet.ok) throw new InputError(source, fleet.errors);
  return fleet.nodes;
}
