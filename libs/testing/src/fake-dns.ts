/**
 * A real DNS server for tests that the test scripts: pebble-challtestsrv (Debian's pebble
 * package) with only its DNS server and management API, on free loopback ports.
 */
import { spawn } from 'node:child_process';
import { freePort, pollUntil } from '@paas/local-services';

export interface FakeDns {
  /** IP:port, as PAAS_DNS_RESOLVER and pebble's -dnsserver take it. */
  address: string;
  /** The name answers A queries with these addresses. */
  addA(host: string, addresses: string[]): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  /** Every query of the name is answered SERVFAIL (an ACME validation of it fails with a DNS problem). */
  setServfail(host: string): Promise<void>;
  /** Kills the server (by its pid) and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface FakeDnsOptions {
  /** The A answer of every name not added with addA; none by default (such names do not resolve). */
  defaultIPv4?: string;
}

export async function startFakeDns(options: FakeDnsOptions = {}): Promise<FakeDns> {
  const dnsPort = await freePort();
  const managementPort = await freePort();
  const child = spawn(
    '/usr/bin/pebble-challtestsrv',
    ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${managementPort}`, '-defaultIPv4', options.defaultIPv4 ?? '', '-defaultIPv6', ''],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await exited;
  };
  const manage = async (path: string, body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${managementPort}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`pebble-challtestsrv ${path} answered ${res.status}: ${await res.text()}`);
  };
  const fqdn = (host: string) => (host.endsWith('.') ? host : `${host}.`);
  try {
    await pollUntil('pebble-challtestsrv to answer', async () => {
      if (child.exitCode !== null) throw new Error(`pebble-challtestsrv exited (${child.exitCode}): ${stderr}`);
      return fetch(`http://127.0.0.1:${managementPort}/clear-txt`, { method: 'POST', body: '{"host":"ready.test."}' }).then((r) => r.ok, () => false);
    }, { timeoutMs: 10_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address: `127.0.0.1:${dnsPort}`,
    addA: (host, addresses) => manage('/add-a', { host: fqdn(host), addresses }),
    setTxt: (host, value) => manage('/set-txt', { host: fqdn(host), value }),
    clearTxt: (host) => manage('/clear-txt', { host: fqdn(host) }),
    setServfail: (host) => manage('/set-servfail', { host: fqdn(host) }),
    stop,
  };
}
