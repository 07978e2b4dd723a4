/**
 * The contract's invariants, checked on what a crash-torture run delivered
 * (every incarnation's log) and on its end state. Each check returns the
 * violations it found as sentences naming the deployment, node and seq, so a
 * failing run says what broke; `tortureFigures` counts what the run reached.
 */
import { isDeepStrictEqual } from 'node:util';
import { isAtRest, isTerminal } from '../../src/engine/index.js';
import { MIN_HEALTHY_MS } from './torturePlan.js';
import type { EventRecord, StartRecord, StopRecord } from './tortureLog.js';
import type { TortureRun } from './tortureRun.js';
import { parseDurationMs } from '../../src/spec/duration.js';

/** Clock slack per outage: the engine may have lived a few ms past the kill signal, and timers fire a ms early. */
const SLACK_PER_OUTAGE_MS = 20;

interface Delivered {
  /** Every record with its incarnation, in the order written. */
  events: (EventRecord & { incarnation: number; position: number })[];
  starts: (StartRecord & { incarnation: number; position: number })[];
  stops: (StopRecord & { incarnation: number; position: number })[];
}

function deliveredOf(run: TortureRun): Delivered {
  const delivered: Delivered = { events: [], starts: [], stops: [] };
  let position = 0;
  run.incarnations.forEach(({ records }, incarnation) => {
    for (const r of records) {
      position++;
      if (r.k === 'event') delivered.events.push({ ...r, incarnation, position });
      else if (r.k === 'start') delivered.starts.push({ ...r, incarnation, position });
      else if (r.k === 'stop') delivered.stops.push({ ...r, incarnation, position });
    }
  });
  return delivered;
}

/** The engine's lifetimes, [opening, killed]: what the engine's clock may count for a node timer. */
function lifetimes(run: TortureRun): { from: number; to: number }[] {
  return run.incarnations.flatMap(({ records, killedAt }) => {
    const opening = records.find((r) => r.k === 'opening');
    return opening === undefined ? [] : [{ from: opening.at, to: killedAt ?? Infinity }];
  });
}

/** Engine time between two instants: the parts of [from, to] while an engine ran, and how many outages the span crossed. */
function engineTime(lives: { from: number; to: number }[], from: number, to: number): { ms: number; outages: number } {
  let ms = 0;
  let outages = 0;
  for (const life of lives) {
    ms += Math.max(0, Math.min(to, life.to) - Math.max(from, life.from));
    if (life.to > from && life.to < to) outages++;
  }
  return { ms, outages };
}

function planned(run: TortureRun, job: string, version: number) {
  return run.versions.get(job)?.find((v) => v.version === version);
}

/**
 * §7a: the last call a process delivered for a node and job starts an execution older than
 * one already delivered (a start decided later), so the node goes back to it. A repeat of a
 * whole sequence (X then Y again) ends with Y and is fine.
 */
function staleStarts(starts: Delivered['starts'], stops: Delivered['stops']): { node: string; job: string; id: string; incarnation: number }[] {
  const calls = [...starts, ...stops].sort((a, b) => a.position - b.position);
  const byTarget = new Map<string, typeof calls>();
  for (const c of calls) {
    const key = `${c.node} ${c.job}`;
    if (!byTarget.has(key)) byTarget.set(key, []);
    byTarget.get(key)!.push(c);
  }
  const stale: { node: string; job: string; id: string; incarnation: number }[] = [];
  for (const list of byTarget.values()) {
    const first = new Map<string, number>(); // start id -> position of its first delivery
    const lastOf = new Map<number, (typeof calls)[number]>(); // incarnation -> its last call here
    for (const c of list) {
      if (c.k === 'start' && !first.has(c.id)) first.set(c.id, c.position);
      lastOf.set(c.incarnation, c);
    }
    for (const c of lastOf.values()) {
      if (c.k !== 'start') continue;
      const newer = [...first].some(([id, position]) => id !== c.id && position > first.get(c.id)! && position < c.position);
      if (newer) stale.push({ node: c.node, job: c.job, id: c.id, incarnation: c.incarnation });
    }
  }
  return stale;
}

export function tortureViolations(run: TortureRun): string[] {
  const violations: string[] = [];
  const found = (sentence: string) => violations.push(sentence);
  const { events, starts, stops } = deliveredOf(run);
  const { final } = run;
  const lives = lifetimes(run);

  // Recovery never failed on an entry; no listener or executor threw (§7a).
  for (const [n, { records }] of run.incarnations.entries()) {
    for (const r of records) if (r.k === 'error') found(`§7a incarnation ${n}: error reported (${r.source}${r.event ? ` ${r.event}` : ''}): ${r.message}`);
  }
  if (final.quarantined > 0) found(`§7a: ${final.quarantined} journal entries quarantined`);

  // §7a seq: a repeat is the same event; within a process, seq only grows.
  const bySeq = new Map<number, EventRecord>();
  for (const e of events) {
    const { incarnation: _i, position: _p, ...event } = e;
    const earlier = bySeq.get(e.seq);
    if (earlier === undefined) bySeq.set(e.seq, event);
    else if (!isDeepStrictEqual(earlier, event)) found(`§7a seq ${e.seq}: delivered as ${JSON.stringify(earlier)} and again as ${JSON.stringify(event)}`);
    if (typeof e.seq !== 'number') found(`§7a: event without seq: ${JSON.stringify(event)}`);
  }
  for (const [n, { records }] of run.incarnations.entries()) {
    let last = 0;
    for (const r of records) {
      if (r.k !== 'event') continue;
      if (r.seq <= last) found(`§7a incarnation ${n}: seq ${r.seq} delivered after seq ${last}`);
      last = r.seq;
    }
  }
  // Every number not an event's went to a start or stop (the only other numbered items): nothing silently skipped.
  let maxSeq = 0;
  for (const seq of bySeq.keys()) maxSeq = Math.max(maxSeq, seq);
  const numberedCalls = new Set(starts.map((s) => s.id)).size + new Set(stops.map((s) => s.id)).size;
  if (maxSeq - bySeq.size > numberedCalls) found(`§7a: ${maxSeq - bySeq.size} seq numbers up to ${maxSeq} never delivered as events, but only ${numberedCalls} distinct starts and stops were delivered`);

  // §4: no node becomes stable twice for the same version in one deployment.
  const stable = new Map<string, Set<number>>();
  for (const e of events.filter((e) => e.type === 'node.stable')) {
    const key = `${e.deployment} ${e.node} v${e.version}`;
    if (!stable.has(key)) stable.set(key, new Set());
    stable.get(key)!.add(e.seq);
  }
  for (const [key, seqs] of stable) if (seqs.size > 1) found(`§4: ${key} became stable ${seqs.size} times (seq ${[...seqs].join(', ')})`);

  // §6: a failed deployment starts no further node (its reverts excepted).
  const failedAt = new Map<string, EventRecord & { position: number }>();
  for (const e of events) if (e.type === 'deployment.state' && e.state === 'failed' && !failedAt.has(e.deployment!)) failedAt.set(e.deployment!, e);
  for (const e of events.filter((e) => e.type === 'node.started')) {
    const failed = failedAt.get(e.deployment!);
    if (failed !== undefined && e.seq > failed.seq) found(`§6: ${e.deployment} started ${e.node} (seq ${e.seq}) after it failed (seq ${failed.seq})`);
  }
  const firstSeen = new Map<string, number>();
  const firstStart = new Map<string, (typeof starts)[number]>();
  for (const s of starts) {
    if (firstSeen.has(s.id)) continue;
    firstSeen.set(s.id, s.position);
    firstStart.set(s.id, s);
  }
  for (const [id, position] of firstSeen) {
    const s = firstStart.get(id)!;
    const failed = failedAt.get(s.deployment);
    if (s.purpose === 'update' && failed !== undefined && position > failed.position) found(`§6: ${id} was first started after ${s.deployment} was seen failed`);
  }

  // Every deployment, from its delivered `deployment.created`: the final state may have forgotten old ones (§7 v1.1 history).
  const createdOf = new Map(events.filter((e) => e.type === 'deployment.created').map((e) => [e.deployment!, { job: e.job!, version: e.to_version! }]));
  const kept = new Map(final.deployments.map((d) => [d.id, d]));
  const behaviorOf = (deployment: string) => {
    const d = createdOf.get(deployment);
    return d === undefined ? undefined : planned(run, d.job, d.version);
  };

  // §7a at least once, no invention: every execution started has its event and the engine knows it; every event its start.
  const startedEvents = new Set(events.filter((e) => e.type === 'node.started').map((e) => `${e.deployment}/${e.node}`));
  const revertingEvents = new Set(events.filter((e) => e.type === 'node.reverting').map((e) => `${e.deployment}/${e.node}`));
  for (const s of firstStart.values()) {
    const id = s.id;
    const key = `${s.deployment}/${s.node}`;
    if (!(s.purpose === 'update' ? startedEvents : revertingEvents).has(key)) found(`§7a: start ${id} delivered without its ${s.purpose === 'update' ? 'node.started' : 'node.reverting'} event`);
    if (!createdOf.has(s.deployment)) found(`§7a: start ${id} delivered for a deployment never created`);
    const state = final.nodeStates[s.deployment]?.[s.node];
    if (kept.has(s.deployment) && (state === undefined || state === 'pending' || state === 'untouched')) found(`§7a: start ${id} delivered, but the engine has ${s.node} ${state ?? 'not targeted'} in ${s.deployment}`);
  }
  const startedIds = new Set(starts.map((s) => `${s.deployment}/${s.node}/${s.purpose}`));
  for (const key of startedEvents) if (!startedIds.has(`${key}/update`)) found(`§7a: node.started ${key} without an update start delivered`);
  for (const key of revertingEvents) if (!startedIds.has(`${key}/revert`)) found(`§7a: node.reverting ${key} without a revert start delivered`);
  for (const s of stops) if (!firstSeen.has(s.id)) found(`§7a: stop ${s.id} of an execution never started`);

  // §7: every deployment ends or waits; its end and its nodes' ends were delivered as events.
  const lastState = new Map<string, EventRecord>();
  for (const e of events) if (e.type === 'deployment.state' && (lastState.get(e.deployment!)?.seq ?? -1) < e.seq) lastState.set(e.deployment!, e);
  const nodeEvents = new Set(events.filter((e) => e.node !== undefined).map((e) => `${e.type} ${e.deployment}/${e.node}`));
  const stopped = new Set(stops.map((s) => s.id.slice(0, s.id.lastIndexOf('/'))));
  const NODE_END_EVENT: Record<string, string> = { stable: 'node.stable', degraded: 'node.stable', failed: 'node.failed', reverted: 'node.reverted', revert_failed: 'node.revert_failed' };
  for (const d of final.deployments) {
    if (!isAtRest(d)) found(`§7: ${d.id} neither ended nor waits: ${d.state} (${d.counts.updating} updating, ${d.counts.reverting} reverting)`);
    if (!createdOf.has(d.id)) found(`§7a: ${d.id} exists but deployment.created was never delivered`);
    if (lastState.get(d.id)?.state !== d.state && !(d.state === 'pending' && !lastState.has(d.id))) found(`§7a: ${d.id} is ${d.state}, the last deployment.state delivered says ${lastState.get(d.id)?.state ?? 'nothing'}`);
    for (const [node, state] of Object.entries(final.nodeStates[d.id] ?? {})) {
      const type = NODE_END_EVENT[state];
      if (type !== undefined && !nodeEvents.has(`${type} ${d.id}/${node}`)) found(`§7a: ${node} is ${state} in ${d.id}, but ${type} was never delivered`);
      if (state === 'stopped' && !stopped.has(`${d.id}/${node}`)) found(`§7a: ${node} is stopped in ${d.id}, but no stop was delivered`);
    }
  }
  for (const id of createdOf.keys()) {
    if (!kept.has(id) && !isTerminal(lastState.get(id)?.state ?? 'none')) found(`§7 v1.1: ${id} was forgotten while ${lastState.get(id)?.state ?? 'never in a state'}`);
  }

  // §7a: no call delivered again after the node moved on.
  const stale = staleStarts(starts, stops);
  for (const s of stale) found(`§7a: incarnation ${s.incarnation} ended ${s.node}'s ${s.job} with a start of ${s.id}, after a newer execution had been delivered`);

  // What the agents run is what the engine says each node should run.
  for (const { id: node, versions } of final.nodes) {
    const runs = run.agentVersions.get(node) ?? new Map<string, number>();
    for (const job of new Set([...Object.keys(versions), ...runs.keys()])) {
      if (versions[job] !== runs.get(job)) found(`final versions: ${node} runs ${job} v${runs.get(job) ?? '-'}, the engine says v${versions[job] ?? '-'}`);
    }
  }

  // §1 v1.1: a spec resubmitted on every start deploys once: one deployment per submitted version.
  for (const [job, versions] of run.versions) {
    const toVersions = [...createdOf.values()].filter((d) => d.job === job).map((d) => d.version);
    const expected = versions.map((v) => v.version);
    if (!isDeepStrictEqual(toVersions, expected)) found(`§1 v1.1: ${job} has deployments to versions [${toVersions.join(', ')}] for the submitted versions [${expected.join(', ')}]`);
  }

  // §4 v1.1: no node timer fired early (the revert deadline is the failing version's deadline, §6), counted in engine time (the orchestrator's outages count for nothing).
  const startedAt = new Map(events.filter((e) => e.type === 'node.started').map((e) => [`${e.deployment}/${e.node}`, e.at]));
  const revertingAt = new Map(events.filter((e) => e.type === 'node.reverting').map((e) => [`${e.deployment}/${e.node}`, e.at]));
  const early = (what: string, from: number | undefined, to: number, limitMs: number) => {
    if (from === undefined) return;
    const { ms, outages } = engineTime(lives, from, to);
    if (ms < limitMs - SLACK_PER_OUTAGE_MS * (outages + 1)) found(`§4 v1.1: ${what} after ${ms} ms of engine time (${to - from} ms of wall time, ${outages} outages), limit ${limitMs} ms`);
  };
  for (const e of bySeq.values()) {
    const version = e.deployment === undefined ? undefined : behaviorOf(e.deployment);
    if (version === undefined) continue;
    const deadlineMs = parseDurationMs(version.spec.deployment.health_check!.deadline);
    const key = `${e.deployment}/${e.node}`;
    if (e.type === 'node.failed' && e.reason === 'deadline_exceeded') early(`${key} failed deadline_exceeded`, startedAt.get(key), e.at, deadlineMs);
    if (e.type === 'node.stable') early(`${key} stable`, startedAt.get(key), e.at, MIN_HEALTHY_MS);
    // A revert's confirmation may be lost with a killed orchestrator's inbox, but its deadline counts engine time only.
    if (e.type === 'node.revert_failed') early(`${key} revert_failed`, revertingAt.get(key), e.at, deadlineMs);
    // §4 v1.1: outages (one longer than every deadline) fail no node of a healthy version.
    if (e.type === 'node.failed' && version.behavior === 'healthy') found(`§4 v1.1: ${key} of healthy ${e.deployment} (v${e.version}) failed ${e.reason} at ${e.at}`);
  }
  for (const [id] of createdOf) {
    const state = lastState.get(id)?.state;
    if (behaviorOf(id)?.behavior === 'healthy' && (state === 'failed' || state === 'rolling_back' || state === 'rolled_back')) found(`§4 v1.1: healthy ${id} ended ${state} (${lastState.get(id)!.reason})`);
  }
  return violations;
}

function openedAt(run: TortureRun, incarnation: number): number {
  const opening = run.incarnations[incarnation]!.records.find((r) => r.k === 'opening');
  return opening === undefined ? Infinity : opening.at;
}

/** What the run reached, for the report and to show the test exercised the interesting cases. */
export function tortureFigures(run: TortureRun) {
  const { events, starts } = deliveredOf(run);
  const byState: Record<string, number> = {};
  for (const d of run.final.deployments) byState[d.state] = (byState[d.state] ?? 0) + 1;
  const failures: Record<string, number> = {};
  for (const e of new Map(events.filter((e) => e.type === 'node.failed').map((e) => [e.seq, e])).values()) failures[e.reason!] = (failures[e.reason!] ?? 0) + 1;
  const seqIncarnations = new Map<number, Set<number>>();
  for (const e of events) (seqIncarnations.get(e.seq) ?? seqIncarnations.set(e.seq, new Set()).get(e.seq)!).add(e.incarnation);
  const startIncarnations = new Map<string, Set<number>>();
  for (const s of starts) (startIncarnations.get(s.id) ?? startIncarnations.set(s.id, new Set()).get(s.id)!).add(s.incarnation);
  const killed = run.incarnations.filter((i) => i.kill !== null);
  let longestDeadlineMs = 0;
  for (const versions of run.versions.values()) for (const v of versions) longestDeadlineMs = Math.max(longestDeadlineMs, parseDurationMs(v.spec.deployment.health_check!.deadline));
  return {
    seed: run.options.seed,
    nodes: run.options.nodes,
    kills: killed.length,
    killedWhileStarting: killed.filter((i) => !i.records.some((r) => r.k === 'ready')).length,
    killedDelivering: killed.filter((i) => i.kill!.when === 'delivering').length,
    outagesLongerThanEveryDeadline: killed.filter((i) => i.kill!.downMs > longestDeadlineMs).length,
    deployments: run.final.deployments.length,
    byState,
    nodeFailures: failures,
    revertsFailed: new Set(events.filter((e) => e.type === 'node.revert_failed').map((e) => e.seq)).size,
    // Decided by a process that was killed before it delivered them, delivered by the next.
    eventsDeliveredAfterRestart: [...new Map(events.toReversed().map((e) => [e.seq, e])).values()].filter((e) => e.at < openedAt(run, e.incarnation)).length,
    eventsDeliveredAgain: [...seqIncarnations.values()].filter((s) => s.size > 1).length,
    startsDeliveredAgain: [...startIncarnations.values()].filter((s) => s.size > 1).length,
    repeatedStartsAnswered: run.repeatedStarts,
    backgroundCompactions: run.incarnations.reduce((sum, i) => sum + i.records.filter((r) => r.k === 'compacting').length, 0),
    seconds: Math.round(run.durationMs / 100) / 10,
  };
}
