/**
 * The pebble harness of libs/testing (pebble.ts, written by the certificates part of issue 16):
 * pebble-challtestsrv (mock DNS resolving every name to 127.0.0.1, TXT records) and pebble (an
 * ACME CA) on free ports of their own. Loaded at run time so that the specs using it build before
 * that harness is merged; `loadPebble()` throws naming what is missing.
 *
 * What these specs rely on (startPebble's contract as agreed in the brief, plus `dnsResolver` and
 * `managementUrl`, which the specs need to point PAAS_DNS_RESOLVER at challtestsrv and to make a
 * name fail to resolve):
 */
export interface Pebble {
  /** https://127.0.0.1:PORT/dir */
  directoryUrl: string;
  /** The CA of pebble's own HTTPS (PAAS_ACME_CA_FILE). */
  caFile: string;
  /** host:port of challtestsrv's DNS (PAAS_DNS_RESOLVER). */
  dnsResolver: string;
  /** challtestsrv's management API (http://127.0.0.1:PORT), e.g. POST /set-servfail {host}. */
  managementUrl: string;
  /** The root pebble issues under (it changes with every pebble start), PEM. */
  issuingRoot(): Promise<string>;
  setTxt(host: string, value: string): Promise<void>;
  stop(): Promise<void>;
}

export type StartPebble = (options: { httpPort: number; validitySeconds?: number }) => Promise<Pebble>;

export function loadPebble(): StartPebble {
  let testing: { startPebble?: StartPebble };
  try {
    // Loaded by a name in a variable: a static import would not build before the harness is
    // merged (then replace this with `import { startPebble } from '@paas/testing'`).
    const library = '@paas/testing';
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    testing = require(library) as { startPebble?: StartPebble };
  } catch (error) {
    throw new Error(`@paas/testing does not load: ${(error as Error).message}`);
  }
  if (typeof testing.startPebble !== 'function') throw new Error('@paas/testing has no startPebble: the pebble harness (libs/testing/src/pebble.ts) is not merged yet');
  return testing.startPebble;
}

/** challtestsrv answers SERVFAIL for `host` (so an ACME validation of it fails with a DNS problem). */
export async function servfail(pebble: Pebble, host: string): Promise<void> {
  const res = await fetch(`${pebble.managementUrl}/set-servfail`, { method: 'POST', body: JSON.stringify({ host }) });
  if (!res.ok) throw new Error(`challtestsrv /set-servfail ${host}: ${res.status} ${await res.text()}`);
}
