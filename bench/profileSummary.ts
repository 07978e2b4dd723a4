/**
 * Where the time goes: summarises a V8 CPU profile written by
 * `node --cpu-prof --cpu-prof-dir=DIR dist/bench/case.js <case> <nodes> [n]`
 * as self time by area (GC, XState, engine, machines, simulator, clock, bench)
 * and by function. Usage: `node dist/bench/profileSummary.js FILE.cpuprofile [top]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const AREAS: Array<[RegExp, string]> = [
  [/node_modules\/xstate\//, 'xstate'],
  [/node_modules\/eventemitter3\//, 'eventemitter3'],
  [/node_modules\//, 'other dependencies'],
  [/src\/engine\/clocks\//, 'virtual clock'],
  [/src\/engine\//, 'engine'],
  [/machines\//, 'machines'],
  [/src\/sim\//, 'simulator'],
  [/src\//, 'other package code'],
  [/bench\//, 'bench driver'],
  [/^node:/, 'node internals'],
];

function areaOf(frame: ProfileNode['callFrame']): string {
  if (frame.functionName === '(garbage collector)') return 'garbage collector';
  for (const [pattern, area] of AREAS) if (pattern.test(frame.url)) return area;
  return frame.url === '' ? 'native / idle' : 'other';
}

function where(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

export function summarize(profile: CpuProfile, top: number): string[] {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)!;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const area = areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    byFunction.set(where(frame), (byFunction.get(where(frame)) ?? 0) + us);
  });
  const line = ([name, us]: [string, number]): string => `${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`;
  const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]);
  return [
    `total ${(total / 1000).toFixed(0)} ms sampled`,
    'self time by area:',
    ...sorted(byArea).map(line),
    `top ${top} functions by self time:`,
    ...sorted(byFunction).slice(0, top).map(line),
  ];
}

const [file, top] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node dist/bench/profileSummary.js FILE.cpuprofile [top]\n');
  process.exitCode = 2;
} else {
  process.stdout.write(`${summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 25)).join('\n')}\n`);
}
