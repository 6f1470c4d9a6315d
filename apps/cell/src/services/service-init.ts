import { chown, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostVcapUser, type ContainerRuntime, type IdMapping } from '@paas/runtime';
import { logTail } from '../log-tail';
import { initSpec } from './service-containers';
import type { ServiceRecord } from './service-registry';
import { SERVERS } from './service-servers';

const INIT_TIMEOUT_MS = 120_000;

/**
 * First start of an instance: seeds its fresh volume at `dataDir` (the admin password file, the
 * ACL file: vcap's, 0600) and runs its kind's init container (initdb) to completion. Throws with
 * the init's last output lines when it fails; the caller then starts over from a fresh volume.
 */
export async function initializeServerData(runtime: ContainerRuntime, input: { prefix: string; idMapping: IdMapping; record: ServiceRecord; dataDir: string }): Promise<void> {
  const job = input.record.job;
  const vcap = hostVcapUser(input.idMapping);
  // A fresh filesystem that nothing has run on yet: no link planted there to follow.
  for (const [name, content] of Object.entries(SERVERS[job.kind].seedFiles(job))) {
    const path = join(input.dataDir, name);
    await rm(path, { force: true });
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
    await chown(path, vcap.uid, vcap.gid).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPERM') throw error; // the fake runtime's cell may run unprivileged
    });
  }
  const spec = initSpec({ prefix: input.prefix, record: input.record, dataDir: input.dataDir, logFiles: { out: '/dev/null', err: '/dev/null' } });
  if (!spec) return;
  const lines: string[] = [];
  try {
    const result = await runtime.run(spec, { timeoutMs: INIT_TIMEOUT_MS, onLine: (line) => lines.push(line) });
    if (result.exitCode !== 0 || result.reason) {
      const how = result.reason === 'timeout' ? `did not finish within ${INIT_TIMEOUT_MS / 1000}s` : result.reason === 'oom' ? 'ran out of memory' : `exited with status ${result.exitCode}`;
      const tail = logTail(lines.join('\n'), 10).join(' | ');
      throw new Error(`initialising the ${job.kind} data ${how}${tail ? `: ${tail}` : ''}`);
    }
  } finally {
    await runtime.destroy(spec.id);
  }
}
