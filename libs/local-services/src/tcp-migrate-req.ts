import { readFile, writeFile } from 'node:fs/promises';

const SYSCTL = '/proc/sys/net/ipv4/tcp_migrate_req';

/**
 * What became of net.ipv4.tcp_migrate_req: `set` (it was 0, now 1), `on` (it was 1 already),
 * `unsupported` (a kernel before 5.14), `denied` (not root).
 */
export type TcpMigrateReqOutcome = 'set' | 'on' | 'unsupported' | 'denied';

/**
 * Turns on net.ipv4.tcp_migrate_req in this process's network namespace: when one of several
 * SO_REUSEPORT listeners of a port closes (a router process stops or dies), the connections in
 * its accept queue move to another listener instead of being reset. It touches nothing else: a
 * port with one listener behaves as before. The setting stays (it is the namespace's, and other
 * platforms on this host rely on it too).
 */
export async function enableTcpMigrateReq(): Promise<TcpMigrateReqOutcome> {
  let current: string;
  try {
    current = (await readFile(SYSCTL, 'utf8')).trim();
  } catch {
    return 'unsupported';
  }
  if (current === '1') return 'on';
  try {
    await writeFile(SYSCTL, '1\n');
    return 'set';
  } catch {
    return 'denied';
  }
}
