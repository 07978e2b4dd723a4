/**
 * The `fleet` block of a scenario (contract section 9): explicit nodes plus
 * generated groups, validated into a flat list of nodes. Explicit nodes come
 * first, then each group's nodes in index order.
 *
 * Generated ids are `prefix` + the 1-based index zero-padded to
 * `max(3, digits(count))`; a group's `spread` deals label values to its
 * nodes in mixed radix (see docs/scenarios.md, "Fleet").
 */
import type { FleetNode } from '../selector/types.js';
import { describeValue } from '../spec/describeValue.js';
import { checkKnownKeys } from '../spec/knownKeys.js';
import { joinPath } from '../spec/path.js';
import { isRawObject, type RawObject } from '../spec/raw.js';
import type { Problem } from '../spec/types.js';

/** One `groups[]` entry after validation. */
export interface FleetGroup {
  count: number;
  prefix: string;
  labels: Record<string, string>;
  /** Label key -> values dealt to the nodes; keys in object order, the first varying fastest. */
  spread: Record<string, string[]>;
}

/**
 * On failure, `ids` still lists every node id the block defines (nodes with
 * other problems included), so that a scenario's events naming them are not
 * also reported as unknown nodes.
 */
export type FleetResult = { ok: true; nodes: FleetNode[] } | { ok: false; errors: Problem[]; ids: string[] };

/** A fleet larger than this would not fit in memory comfortably; the simulator bench uses 1,000,000. */
export const MAX_FLEET_NODES = 10_000_000;

/** A caller's own size limit, checked on the node count before any node is generated: why it is too large, or null. */
export type FleetFits = (nodes: number) => string | null;

const FLEET_KEYS = ['nodes', 'groups'];
const NODE_KEYS = ['id', 'labels', 'connected'];
const GROUP_KEYS = ['count', 'prefix', 'labels', 'spread'];

/**
 * Validates a fleet block and builds its nodes. `pathPrefix` names the block
 * in problem paths (`"fleet"` in a scenario, `""` for a file holding only the block).
 */
export function parseFleet(value: unknown, pathPrefix: string, fits?: FleetFits): FleetResult {
  const errors: Problem[] = [];
  if (!isRawObject(value)) {
    errors.push({ path: pathPrefix, message: `expected a fleet block (an object with nodes and groups), found ${describeValue(value)}` });
    return { ok: false, errors, ids: [] };
  }
  checkKnownKeys(value, FLEET_KEYS, pathPrefix, errors);

  const nodes: FleetNode[] = [];
  // id -> where it was first defined, for duplicate messages; generated ids share their group's path string.
  const origins = new Map<string, string>();

  // Ids of explicit nodes refused for another reason (a bad label ...): defined all the same.
  const refusedIds: string[] = [];
  const failed = (): FleetResult => ({ ok: false, errors, ids: [...nodes.map((node) => node.id), ...refusedIds] });

  const explicit = listAt(value, 'nodes', pathPrefix, errors);
  explicit.forEach((raw, index) => {
    const path = `${joinPath(pathPrefix, 'nodes')}[${index}]`;
    const node = parseNode(raw, path, errors);
    if (node === undefined) {
      if (isRawObject(raw) && isIdentifier(raw.id)) refusedIds.push(raw.id);
      return;
    }
    const earlier = origins.get(node.id);
    if (earlier !== undefined) {
      errors.push({ path: `${path}.id`, message: `duplicate node id ${JSON.stringify(node.id)} (also ${earlier})` });
      return;
    }
    origins.set(node.id, path);
    nodes.push(node);
  });

  const groups: Array<{ group: FleetGroup; path: string }> = [];
  let total = nodes.length;
  listAt(value, 'groups', pathPrefix, errors).forEach((raw, index) => {
    const path = `${joinPath(pathPrefix, 'groups')}[${index}]`;
    const group = parseGroup(raw, path, errors);
    if (group === undefined) return;
    total += group.count;
    if (total > MAX_FLEET_NODES) {
      errors.push({ path: `${path}.count`, message: `the fleet would hold ${total} nodes; at most ${MAX_FLEET_NODES} are supported` });
      return;
    }
    groups.push({ group, path });
  });
  if (total > MAX_FLEET_NODES) return failed();
  const tooLarge = fits?.(total) ?? null;
  if (tooLarge !== null) {
    errors.push({ path: groups.length > 0 ? joinPath(pathPrefix, 'groups') : joinPath(pathPrefix, 'nodes'), message: tooLarge });
    return failed();
  }

  // Ids within a group are distinct by construction, and two groups can only
  // collide when one prefix starts the other; otherwise checking generated ids
  // against the explicit ones suffices (a million-entry Map costs ~0.3 s).
  const trackGenerated = prefixesNest(groups.map(({ group }) => group.prefix));
  for (const { group, path } of groups) {
    addGenerated(generateGroup(group), path, trackGenerated, origins, nodes, errors);
  }

  return errors.length > 0 ? failed() : { ok: true, nodes };
}

/**
 * Builds a group's nodes. Nodes with the same label values share one frozen
 * `labels` object: a 1,000,000-node group with a 2x3 spread allocates six.
 */
export function generateGroup(group: FleetGroup): FleetNode[] {
  const width = Math.max(3, String(group.count).length);
  const spreadKeys = Object.keys(group.spread);
  const radices = spreadKeys.map((key) => Math.max(1, group.spread[key]?.length ?? 0));
  // Node i gets the combination i mod (product of radices); at most `count` combinations are ever used.
  const combinations = radices.reduce((product, radix) => product * radix, 1);
  const distinct = Math.min(combinations, group.count);
  const labelSets: Record<string, string>[] = [];
  for (let combination = 0; combination < distinct; combination += 1) {
    const labels = labelRecord(group.labels);
    let rest = combination;
    spreadKeys.forEach((key, k) => {
      const values = group.spread[key] ?? [];
      const radix = radices[k] ?? 1;
      labels[key] = values[rest % radix] ?? '';
      rest = Math.floor(rest / radix);
    });
    labelSets.push(Object.freeze(labels) as Record<string, string>);
  }

  const nodes: FleetNode[] = new Array(group.count);
  for (let i = 0; i < group.count; i += 1) {
    nodes[i] = {
      id: group.prefix + String(i + 1).padStart(width, '0'),
      labels: labelSets[i % combinations] as Record<string, string>,
      connected: true,
    };
  }
  return nodes;
}

function addGenerated(
  generated: FleetNode[],
  path: string,
  track: boolean,
  origins: Map<string, string>,
  nodes: FleetNode[],
  errors: Problem[],
): void {
  let duplicates = 0;
  let first = '';
  // With no id recorded yet, nothing can collide: skip hashing a million fresh ids.
  const check = track || origins.size > 0;
  // An index loop: `for of` over a million nodes allocated an iterator result each (~40 MB).
  for (let i = 0; i < generated.length; i++) {
    const node = generated[i]!;
    const earlier = check ? origins.get(node.id) : undefined;
    if (earlier !== undefined) {
      if (duplicates === 0) first = `generates node id ${JSON.stringify(node.id)}, already defined by ${earlier}`;
      duplicates += 1;
      continue;
    }
    if (track) origins.set(node.id, path);
    nodes.push(node);
  }
  if (duplicates > 0) {
    const more = duplicates > 1 ? ` (${duplicates} duplicate ids in all)` : '';
    errors.push({ path: `${path}.prefix`, message: `duplicate node id: ${first}${more}` });
  }
}

/** Whether some prefix starts another (after sorting, such a pair is adjacent). */
function prefixesNest(prefixes: string[]): boolean {
  const sorted = [...prefixes].sort();
  return sorted.some((prefix, i) => i > 0 && prefix.startsWith(sorted[i - 1] ?? ''));
}

function parseNode(raw: unknown, path: string, errors: Problem[]): FleetNode | undefined {
  if (!isRawObject(raw)) {
    errors.push({ path, message: `expected a node (an object with id, labels, connected), found ${describeValue(raw)}` });
    return undefined;
  }
  checkKnownKeys(raw, NODE_KEYS, path, errors);
  const before = errors.length;
  const id = identifier(raw.id, `${path}.id`, errors, "required: the node's id");
  const labels = labelMap(raw.labels, `${path}.labels`, errors);
  let connected = true;
  if (raw.connected !== undefined) {
    if (typeof raw.connected === 'boolean') connected = raw.connected;
    else errors.push({ path: `${path}.connected`, message: `expected true or false, found ${describeValue(raw.connected)}` });
  }
  return errors.length === before && id !== undefined ? { id, labels, connected } : undefined;
}

function parseGroup(raw: unknown, path: string, errors: Problem[]): FleetGroup | undefined {
  if (!isRawObject(raw)) {
    errors.push({ path, message: `expected a group (an object with count, prefix, labels, spread), found ${describeValue(raw)}` });
    return undefined;
  }
  checkKnownKeys(raw, GROUP_KEYS, path, errors);
  const before = errors.length;
  let count = 0;
  if (raw.count === undefined) {
    errors.push({ path: `${path}.count`, message: 'required: the number of nodes to generate' });
  } else if (typeof raw.count !== 'number' || !Number.isInteger(raw.count) || raw.count < 0) {
    errors.push({ path: `${path}.count`, message: `expected an integer >= 0, found ${describeValue(raw.count)}` });
  } else {
    count = raw.count;
  }
  const prefix = identifier(raw.prefix, `${path}.prefix`, errors, 'required: generated ids are prefix + zero-padded index');
  const labels = labelMap(raw.labels, `${path}.labels`, errors);
  const spread = spreadMap(raw.spread, `${path}.spread`, labels, errors);
  if (errors.length > before || prefix === undefined) return undefined;
  return { count, prefix, labels, spread };
}

function spreadMap(raw: unknown, path: string, labels: Record<string, string>, errors: Problem[]): Record<string, string[]> {
  const spread: Record<string, string[]> = {};
  if (raw === undefined) return spread;
  if (!isRawObject(raw)) {
    errors.push({ path, message: `expected a map of label key to a list of values, found ${describeValue(raw)}` });
    return spread;
  }
  for (const [key, values] of Object.entries(raw)) {
    const at = joinPath(path, key);
    if (Object.hasOwn(labels, key)) {
      errors.push({ path: at, message: `label ${JSON.stringify(key)} is also set in labels; give it in one place` });
      continue;
    }
    if (!Array.isArray(values) || values.length === 0) {
      errors.push({ path: at, message: `expected a non-empty list of label values, found ${describeValue(values)}` });
      continue;
    }
    const strings: string[] = [];
    values.forEach((item: unknown, index) => {
      if (typeof item === 'string') strings.push(item);
      else errors.push({ path: `${at}[${index}]`, message: expectedString(item) });
    });
    spread[key] = strings;
  }
  return spread;
}

function labelMap(raw: unknown, path: string, errors: Problem[]): Record<string, string> {
  const labels = labelRecord({});
  if (raw === undefined) return labels;
  if (!isRawObject(raw)) {
    errors.push({ path, message: `expected a map of label key to string value, found ${describeValue(raw)}` });
    return labels;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === '') errors.push({ path, message: 'label keys must be non-empty' });
    else if (typeof value === 'string') labels[key] = value;
    else errors.push({ path: joinPath(path, key), message: expectedString(value) });
  }
  return labels;
}

/** A null-prototype copy: label keys such as `__proto__` or `constructor` stay plain keys (as the selector reads them). */
function labelRecord(from: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null) as Record<string, string>, from);
}

function identifier(raw: unknown, path: string, errors: Problem[], whenMissing: string): string | undefined {
  if (raw === undefined) {
    errors.push({ path, message: whenMissing });
    return undefined;
  }
  if (!isIdentifier(raw)) {
    errors.push({ path, message: `expected a non-empty string without whitespace, found ${describeValue(raw)}` });
    return undefined;
  }
  return raw;
}

function isIdentifier(raw: unknown): raw is string {
  return typeof raw === 'string' && raw !== '' && !/\s/.test(raw);
}

function listAt(block: RawObject, key: string, pathPrefix: string, errors: Problem[]): unknown[] {
  const raw = block[key];
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) return raw;
  errors.push({ path: joinPath(pathPrefix, key), message: `expected a list, found ${describeValue(raw)}` });
  return [];
}

function expectedString(value: unknown): string {
  const quoteHint = typeof value === 'number' || typeof value === 'boolean' ? ` (quote it: "${String(value)}")` : '';
  return `expected a string, found ${describeValue(value)}${quoteHint}`;
}
