/**
 * The `events` block of a scenario (contract section 9): operator and fleet
 * events at virtual times, each with exactly one action. Events run in order
 * of `at`; events at the same time run in file order. A node named by
 * `disconnect` or `connect` must be in the fleet or joined by an earlier event.
 */
import type { FleetNode } from '../selector/types.js';
import { parseFleet } from './fleet.js';
import type { JobSpec } from '../spec/types.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { joinPath } from '../spec/path.js';
import { describe, isRecord, readDuration, readIds, type Problems } from './scenarioFields.js';

export type OperatorAction = 'promote' | 'pause' | 'resume' | 'abort';

export type ScenarioAction =
  | { type: OperatorAction }
  | { type: 'disconnect' | 'connect'; nodes: string[] }
  | { type: 'join'; nodes: FleetNode[] }
  | { type: 'submit'; spec: JobSpec };

/** One scripted event; `at` is milliseconds of virtual time. */
export type ScenarioEvent = ScenarioAction & { at: number };

const OPERATOR_ACTIONS: readonly OperatorAction[] = ['promote', 'pause', 'resume', 'abort'];
export const EVENT_ACTIONS = [...OPERATOR_ACTIONS, 'disconnect', 'connect', 'join', 'submit'] as const;

export interface EventContext {
  /** The fleet's node ids. */
  fleetIds: ReadonlySet<string>;
  horizon: number;
  /** The JobSpec of `events[i].submit`, already loaded (undefined when it could not be). */
  submitted: (path: string) => JobSpec | undefined;
}

export function parseEvents(value: unknown, path: string, problems: Problems, context: EventContext): ScenarioEvent[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: `expected a list of events such as { at: 15m, promote: true }, found ${describe(value)}` });
    return [];
  }
  const parsed: Array<{ event: ScenarioEvent; path: string }> = [];
  // Ids named by join events that were refused (a bad node among them, a bad `at`): not unknown either.
  const refusedJoins = new Set<string>();
  value.forEach((raw: unknown, index) => {
    const at = `${path}[${index}]`;
    const event = parseEvent(raw, at, problems, context, refusedJoins);
    if (event !== undefined) parsed.push({ event, path: at });
  });
  // Stable: events at the same time keep their file order.
  parsed.sort((a, b) => a.event.at - b.event.at);
  checkNodeNames(parsed, problems, context.fleetIds, refusedJoins);
  return parsed.map(({ event }) => event);
}

function parseEvent(raw: unknown, path: string, problems: Problems, context: EventContext, refusedJoins: Set<string>): ScenarioEvent | undefined {
  if (!isRecord(raw)) {
    problems.push({ path, message: `expected an event such as { at: 15m, promote: true }, found ${describe(raw)}` });
    return undefined;
  }
  checkKnownKeys(raw, ['at', ...EVENT_ACTIONS], path, problems);
  const before = problems.length;
  let at: number | undefined;
  if (raw.at === undefined) problems.push({ path: joinPath(path, 'at'), message: 'required: when the event happens, a Go duration since the start such as "15m"' });
  else at = readDuration(raw.at, joinPath(path, 'at'), problems, { allowZero: true });
  if (at !== undefined && at > context.horizon) {
    problems.push({ path: joinPath(path, 'at'), message: `${describe(raw.at)} is past the horizon (${context.horizon / 1000}s): the event would never happen` });
  }

  const actions = EVENT_ACTIONS.filter((key) => raw[key] !== undefined);
  if (actions.length !== 1) {
    const found = actions.length === 0 ? 'none' : actions.join(' and ');
    const advice = actions.length === 0 ? '' : '; split them into one event each';
    problems.push({ path, message: `expected exactly one action (${EVENT_ACTIONS.join(', ')}), found ${found}${advice}` });
    return undefined;
  }
  const action = parseAction(actions[0]!, raw, path, problems, context, refusedJoins);
  if (problems.length === before && at !== undefined && action !== undefined) return { ...action, at };
  if (action?.type === 'join') action.nodes.forEach((node) => refusedJoins.add(node.id));
  return undefined;
}

function parseAction(
  type: (typeof EVENT_ACTIONS)[number],
  raw: Record<string, unknown>,
  path: string,
  problems: Problems,
  context: EventContext,
  refusedJoins: Set<string>,
): ScenarioAction | undefined {
  const value = raw[type];
  const at = joinPath(path, type);
  switch (type) {
    case 'promote':
    case 'pause':
    case 'resume':
    case 'abort':
      if (value === true) return { type };
      problems.push({ path: at, message: `expected true, found ${describe(value)}` });
      return undefined;
    case 'disconnect':
    case 'connect': {
      const nodes = readIds(value, at, problems);
      return nodes === undefined ? undefined : { type, nodes };
    }
    case 'join':
      return parseJoin(value, at, problems, refusedJoins);
    case 'submit': {
      const spec = context.submitted(at);
      return spec === undefined ? undefined : { type, spec };
    }
  }
}

/** Joined nodes are fleet nodes: the fleet's own node rules apply, with paths under `join`. */
function parseJoin(value: unknown, path: string, problems: Problems, refusedJoins: Set<string>): ScenarioAction | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push({ path, message: `expected a non-empty list of nodes such as { id: edge-900, labels: { env: production } }, found ${describe(value)}` });
    return undefined;
  }
  const fleet = parseFleet({ nodes: value }, path);
  if (fleet.ok) return { type: 'join', nodes: fleet.nodes };
  fleet.ids.forEach((id) => refusedJoins.add(id));
  const inList = `${path}.nodes`;
  for (const problem of fleet.errors) {
    problems.push({ ...problem, path: problem.path.startsWith(inList) ? path + problem.path.slice(inList.length) : problem.path });
  }
  return undefined;
}

/** Walks the events in time order: a node must exist before it is named, and a joining id must be new. */
function checkNodeNames(
  events: Array<{ event: ScenarioEvent; path: string }>,
  problems: Problems,
  fleetIds: ReadonlySet<string>,
  refusedJoins: ReadonlySet<string>,
): void {
  const joined = new Map<string, number>();
  const seconds = (ms: number): string => `${ms / 1000}s`;
  for (const { event, path } of events) {
    if (event.type === 'join') {
      event.nodes.forEach((node, index) => {
        const earlier = joined.get(node.id);
        if (fleetIds.has(node.id) || earlier !== undefined) {
          const where = earlier === undefined ? 'in the fleet' : `joined at ${seconds(earlier)}`;
          problems.push({ path: `${path}.join[${index}].id`, message: `node ${JSON.stringify(node.id)} is already ${where}` });
        } else joined.set(node.id, event.at);
      });
    } else if (event.type === 'disconnect' || event.type === 'connect') {
      event.nodes.forEach((id, index) => {
        if (fleetIds.has(id) || joined.has(id) || refusedJoins.has(id)) return;
        problems.push({
          path: `${path}.${event.type}[${index}]`,
          message: `unknown node ${JSON.stringify(id)}: not in the fleet, nor joined by an earlier event (events run in order of at)`,
        });
      });
    }
  }
}
