import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where one container's cgroup counters are: cgroup v1 has a directory per controller (memory,
 * cpuacct), v2 one unified directory. On a hybrid host (v1 controllers plus an empty v2
 * hierarchy, as here) runc puts every controller in v1, so that is what counts.
 */
export type CgroupDirs = { version: 1; memory: string; cpuacct: string } | { version: 2; unified: string };

/** CPU and memory of one cgroup, read from its files (see readCgroupUsage). */
export interface CgroupUsage {
  cpuNanos: number;
  memoryBytes: number;
  memoryLimitBytes?: number;
}

/** Limits at or above this read as "unlimited" (v1 writes PAGE_COUNTER_MAX, about 2^63). */
const UNLIMITED = 2 ** 60;

/**
 * Finds a container's cgroup directories: from runc's state.json (`cgroup_paths`) when it has
 * one, else derived from the `cgroupsPath` the OCI config named, on whichever hierarchy the host
 * mounts (v2 when /sys/fs/cgroup/cgroup.controllers exists; v1 cpuacct alone or co-mounted as
 * cpu,cpuacct).
 */
export async function locateCgroup(runcRoot: string, id: string, cgroupsPath: string, root = '/sys/fs/cgroup'): Promise<CgroupDirs> {
  const state = await readFile(join(runcRoot, id, 'state.json'), 'utf8').catch(() => undefined);
  if (state) {
    try {
      const paths = (JSON.parse(state) as { cgroup_paths?: Record<string, string> }).cgroup_paths ?? {};
      if (paths['memory'] && paths['cpuacct']) return { version: 1, memory: paths['memory'], cpuacct: paths['cpuacct'] };
      if (paths['']) {
        const unified = paths[''];
        if (await exists(join(unified, 'memory.current'))) return { version: 2, unified };
      }
    } catch {
      // fall through to the derived paths
    }
  }
  if (await exists(join(root, 'cgroup.controllers'))) return { version: 2, unified: join(root, cgroupsPath) };
  const cpuacctRoot = (await exists(join(root, 'cpuacct'))) ? join(root, 'cpuacct') : join(root, 'cpu,cpuacct');
  return { version: 1, memory: join(root, 'memory', cgroupsPath), cpuacct: join(cpuacctRoot, cgroupsPath) };
}

/**
 * Reads CPU time and memory in use of one cgroup. Rejects (ENOENT) when the cgroup is gone.
 * - CPU: v1 `cpuacct.usage` (ns); v2 `usage_usec` of `cpu.stat`.
 * - Memory: see memoryInUse; the limit from v1 `memory.limit_in_bytes` / v2 `memory.max`.
 */
export async function readCgroupUsage(dirs: CgroupDirs): Promise<CgroupUsage> {
  if (dirs.version === 1) {
    const [cpu, usage, stat, limit] = await Promise.all([
      readFile(join(dirs.cpuacct, 'cpuacct.usage'), 'utf8'),
      readFile(join(dirs.memory, 'memory.usage_in_bytes'), 'utf8'),
      readFile(join(dirs.memory, 'memory.stat'), 'utf8'),
      readFile(join(dirs.memory, 'memory.limit_in_bytes'), 'utf8'),
    ]);
    return {
      cpuNanos: parseCount(cpu, 'cpuacct.usage'),
      memoryBytes: memoryInUse(parseCount(usage, 'memory.usage_in_bytes'), parseFlatKeyed(stat), 1),
      memoryLimitBytes: limitOf(limit),
    };
  }
  const [cpuStat, current, stat, max] = await Promise.all([
    readFile(join(dirs.unified, 'cpu.stat'), 'utf8'),
    readFile(join(dirs.unified, 'memory.current'), 'utf8'),
    readFile(join(dirs.unified, 'memory.stat'), 'utf8'),
    readFile(join(dirs.unified, 'memory.max'), 'utf8'),
  ]);
  const usec = parseFlatKeyed(cpuStat).get('usage_usec');
  if (usec === undefined) throw new Error(`no usage_usec in ${join(dirs.unified, 'cpu.stat')}`);
  return {
    cpuNanos: usec * 1000,
    memoryBytes: memoryInUse(parseCount(current, 'memory.current'), parseFlatKeyed(stat), 2),
    memoryLimitBytes: limitOf(max),
  };
}

/** True while a process lives in the cgroup (its cgroup.procs lists one); false when empty or gone. */
export async function cgroupHasProcesses(dirs: CgroupDirs): Promise<boolean> {
  const procs = await readFile(join(dirs.version === 1 ? dirs.memory : dirs.unified, 'cgroup.procs'), 'utf8').catch(() => '');
  return procs.trim() !== '';
}

/**
 * Memory a container uses, as `docker stats` (and cAdvisor's working set) count it: the cgroup's
 * charge minus its inactive file cache, the page cache the kernel drops first under pressure.
 * Cgroup v1 takes `total_inactive_file` (the hierarchy's, as usage_in_bytes is), v2 `inactive_file`.
 * Active file cache and tmpfs (shmem) still count: they are not freed on demand.
 */
export function memoryInUse(usageBytes: number, stat: Map<string, number>, version: 1 | 2): number {
  const inactive = version === 1 ? (stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0) : (stat.get('inactive_file') ?? 0);
  return Math.max(0, usageBytes - inactive);
}

/** `key value` lines (memory.stat, cpu.stat) as a map; lines that are not a key and a number are skipped. */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s+(\d+)\s*$/.exec(line);
    if (match) out.set(match[1]!, Number(match[2]));
  }
  return out;
}

function parseCount(text: string, file: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || text.trim() === '') throw new Error(`${file} holds no number: "${text.trim().slice(0, 40)}"`);
  return value;
}

function limitOf(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'max') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) && value < UNLIMITED ? value : undefined;
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
