/**
 * A real ACME server for tests: pebble (Let's Encrypt's test CA, Debian package) with
 * pebble-challtestsrv as its DNS server, both on loopback ports of their own, in a temporary
 * directory removed by stop().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, pollUntil, StopPolling } from '@paas/local-services';
import { startFakeDns, type FakeDns } from './fake-dns';

const run = promisify(execFile);

export interface PebbleOptions {
  /** The port pebble's HTTP-01 validation connects to on 127.0.0.1 (the router's HTTP port, or a test responder's). */
  httpPort: number;
  /** Seconds a certificate pebble issues is valid (pebble's default: about 5 years). */
  certificateValidityPeriodS?: number;
  /** Percent of authorizations pebble reuses (pebble's default 50); 0 (the default here) validates every order. */
  authzReusePercent?: number;
}

export interface Pebble {
  /** The ACME directory: https://127.0.0.1:PORT/dir */
  directoryUrl: string;
  /** File of the CA of pebble's own HTTPS (for PAAS_ACME_CA_FILE). */
  caFile: string;
  /** PEM of the CA pebble's HTTPS is signed by. */
  caPem: string;
  /** PEM of the root pebble issues certificates under (management /roots/0; new at each pebble start). */
  issuingRoot(): Promise<string>;
  /** The DNS server pebble resolves names with (every name is 127.0.0.1 unless set otherwise): TXT records, SERVFAIL. */
  dns: FakeDns;
  /** Kills both by pid and removes the temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function started(child: ChildProcess, name: string, output: () => string): void {
  if (child.exitCode !== null || child.signalCode !== null) throw new StopPolling(new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${output()}`));
}

/** Starts pebble-challtestsrv and pebble; resolves once pebble answers its directory over HTTPS. */
export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  const dir = await mkdtemp(join(tmpdir(), 'paas-pebble-'));
  const children: ChildProcess[] = [];
  let dns: FakeDns | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of children) {
      if (child.pid && child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        process.kill(child.pid, 'SIGKILL');
        await gone;
      }
    }
    await dns?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const caFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-keyout', keyFile, '-out', caFile, '-subj', '/CN=pebble test localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
    const caPem = await readFile(caFile, 'utf8');

    const fakeDns = await startFakeDns({ defaultIPv4: '127.0.0.1' });
    dns = fakeDns;

    const listenPort = await freePort();
    const mgmtPort = await freePort();
    const tlsPort = await freePort();
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${listenPort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: caFile,
        privateKey: keyFile,
        httpPort: options.httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.certificateValidityPeriodS ? { certificateValidityPeriod: options.certificateValidityPeriodS } : {}),
      },
    };
    const configFile = join(dir, 'pebble-config.json');
    await writeFile(configFile, JSON.stringify(config, null, 2));
    let pebbleOut = '';
    const pebble = spawn('/usr/bin/pebble', ['-config', configFile, '-dnsserver', fakeDns.address], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PEBBLE_VA_NOSLEEP: '1',
        PEBBLE_WFE_NONCEREJECT: '0',
        PEBBLE_AUTHZREUSE: String(options.authzReusePercent ?? 0),
      },
    });
    children.push(pebble);
    const keepPebble = (chunk: Buffer) => (pebbleOut = (pebbleOut + chunk.toString()).slice(-8000));
    pebble.stdout?.on('data', keepPebble);
    pebble.stderr?.on('data', keepPebble);
    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    await pollUntil('pebble to answer its directory', async () => {
      started(pebble, 'pebble', () => pebbleOut);
      return get(directoryUrl, caPem).then((r) => r.status === 200, () => false);
    }, { timeoutMs: 15_000 });

    const mgmtUrl = `https://127.0.0.1:${mgmtPort}`;
    return {
      directoryUrl,
      caFile,
      caPem,
      issuingRoot: async () => {
        const res = await get(`${mgmtUrl}/roots/0`, caPem);
        if (res.status !== 200) throw new Error(`pebble's /roots/0 answered ${res.status}: ${res.body}`);
        return res.body;
      },
      dns: fakeDns,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
