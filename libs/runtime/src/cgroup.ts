import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Number of OOM kills the memory cgroup of a container recorded (0 when unknown).
 * cgroup v1: `oom_kill` in memory.oom_control; v2: `oom_kill` in memory.events.
 * Reads runc's state.json for the exact path, else derives it from `cgroupsPath`.
 */
export async function readOomKills(runcRoot: string, id: string, cgroupsPath: string): Promise<number> {
  for (const file of await candidateFiles(runcRoot, id, cgroupsPath)) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const match = /^oom_kill (\d+)$/m.exec(text);
    return match ? Number(match[1]) : 0;
  }
  return 0;
}

async function candidateFiles(runcRoot: string, id: string, cgroupsPath: string): Promise<string[]> {
  const files: string[] = [];
  const state = await readFile(join(runcRoot, id, 'state.json'), 'utf8').catch(() => undefined);
  if (state) {
    try {
      const paths = (JSON.parse(state) as { cgroup_paths?: Record<string, string> }).cgroup_paths ?? {};
      if (paths['memory']) files.push(join(paths['memory'], 'memory.oom_control'));
      if (paths['']) files.push(join(paths[''], 'memory.events'));
    } catch {
      // fall through to the derived paths
    }
  }
  const unified = await access('/sys/fs/cgroup/cgroup.controllers').then(() => true, () => false);
  files.push(
    unified ? join('/sys/fs/cgroup', cgroupsPath, 'memory.events') : join('/sys/fs/cgroup/memory', cgroupsPath, 'memory.oom_control'),
  );
  return files;
}
