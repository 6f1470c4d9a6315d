/** Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per package. */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives: a package, node's internals, the router's own code, or V8 itself. */
function groupOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native bindings: syscalls, string encoding)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) {
    const mod = /^node:(?:internal\/)?([^/]+)/.exec(url);
    return `node:${mod ? mod[1] : url}`;
  }
  const app = /\/(apps|libs|tools)\/([^/]+)\//.exec(url);
  return app ? `${app[1]}/${app[2]}` : url;
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/(apps|libs|tools)\//, '$1/');
}

export interface ProfileSummary {
  totalMs: number;
  functions: { name: string; ms: number; pct: number }[];
  groups: { name: string; ms: number; pct: number }[];
}

export async function summariseProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  /** A native function is named with its nearest JS caller: `writev <- Socket._writev …`. */
  const callerOf = (node: ProfileNode): string => {
    for (let p = parentOf.get(node.id); p; p = parentOf.get(p.id)) {
      if (p.callFrame.url) return ` <- ${p.callFrame.functionName || '(anonymous)'} ${shortUrl(p.callFrame.url)}:${p.callFrame.lineNumber + 1}`;
    }
    return '';
  };
  const fnTime = new Map<string, number>();
  const groupTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = (profile.timeDeltas[i] ?? 0) / 1_000;
    if (!node || dt <= 0) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName || '(anonymous)';
    const key = url ? `${fn} ${shortUrl(url)}:${lineNumber + 1}` : fn.startsWith('(') ? fn : `${fn}${callerOf(node)}`;
    fnTime.set(key, (fnTime.get(key) ?? 0) + dt);
    const group = groupOf(url, fn);
    groupTime.set(group, (groupTime.get(group) ?? 0) + dt);
    total += dt;
  });
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, pct: (100 * ms) / total }));
  return { totalMs: total, functions: rank(fnTime), groups: rank(groupTime) };
}
