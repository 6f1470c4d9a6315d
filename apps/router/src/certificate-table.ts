import { certificateNameCovers, TLS_CIPHERS, type CertificateEntry } from '@paas/contracts';
import { openSecret } from '@paas/redis';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from './route-table';

/** TLS 1.2 and 1.3 only. */
export const TLS_MIN_VERSION = 'TLSv1.2';


/** One certificate the router can serve: its names, expiry and the TLS context built from it once. */
export interface ServedCertificate {
  readonly id: string;
  /** Lowercase names: exact hosts and `*.` wildcards. */
  readonly names: readonly string[];
  /** Epoch ms. */
  readonly notAfter: number;
  readonly context: SecureContext;
}

/**
 * The certificate to serve for `host` among `byName` (lowercase name -> certificates): of those
 * naming the host exactly, the unexpired one that expires last; when none, the same among those
 * whose wildcard covers it (`*.b.c` for `a.b.c`: one label, never more). Undefined when no
 * unexpired certificate covers the host. Pure.
 */
export function chooseCertificate<T extends { notAfter: number; names: readonly string[] }>(byName: ReadonlyMap<string, readonly T[]>, host: string, now: number): T | undefined {
  const h = host.toLowerCase().replace(/\.$/, '');
  const best = (candidates: readonly T[] | undefined, name: string) => {
    let chosen: T | undefined;
    for (const c of candidates ?? []) {
      if (c.notAfter <= now || !certificateNameCovers(name, h)) continue;
      if (!chosen || c.notAfter > chosen.notAfter) chosen = c;
    }
    return chosen;
  };
  const exact = best(byName.get(h), h);
  if (exact) return exact;
  const dot = h.indexOf('.');
  if (dot <= 0) return undefined;
  const wildcard = `*.${h.slice(dot + 1)}`;
  return best(byName.get(wildcard), wildcard);
}

/** What a built context came from: a certificate whose entry is unchanged keeps its context. */
const signatureOf = (entry: CertificateEntry) => `${entry.notAfter}\n${entry.keySealed}\n${entry.chainPem}`;

/**
 * The router's SNI table, as last read from Redis (hash `certificates`, readCertificates). Each
 * entry's private key is opened with the platform secret key and its TLS context built once, when
 * the entry first appears or changes (cached by id and content): a handshake only looks up a map.
 * An entry whose key does not open or whose chain and key do not make a context is skipped with
 * a warning (once per version of the entry), never fatal. Single-threaded: safe to call in any order.
 */
export class CertificateTable {
  private byId = new Map<string, ServedCertificate & { signature: string }>();
  private byName = new Map<string, ServedCertificate[]>();
  /** Entries that failed to build, by id and signature: warned once each. */
  private failed = new Map<string, string>();
  private readonly log: Logger;

  constructor(
    private readonly secretKey: Buffer,
    logger: Logger,
    private readonly clock: Clock = Date.now,
  ) {
    this.log = logger.child({ module: 'certificates' });
  }

  /** Replaces the whole table with `entries` (by id); unchanged entries keep their built context. */
  replaceAll(entries: ReadonlyMap<string, CertificateEntry>): void {
    const next = new Map<string, ServedCertificate & { signature: string }>();
    for (const [id, entry] of entries) {
      const signature = signatureOf(entry);
      const known = this.byId.get(id);
      if (known?.signature === signature) {
        next.set(id, known);
        continue;
      }
      const built = this.build(id, entry, signature);
      if (built) next.set(id, built);
    }
    for (const id of this.failed.keys()) if (!entries.has(id)) this.failed.delete(id);
    const byName = new Map<string, ServedCertificate[]>();
    for (const served of next.values()) {
      for (const name of served.names) {
        const list = byName.get(name) ?? [];
        list.push(served);
        byName.set(name, list);
      }
    }
    this.byId = next;
    this.byName = byName;
  }

  /** The certificate for an SNI host name (chooseCertificate), or undefined: no unexpired one covers it. */
  lookup(servername: string): ServedCertificate | undefined {
    return chooseCertificate(this.byName, servername, this.clock());
  }

  /**
   * Whether a request for `host` belongs on a connection opened for `servername`: the same name,
   * or the certificate that name gets covers `host` too (RFC 9110 §15.5.20: else 421).
   */
  connectionCovers(servername: string, host: string): boolean {
    if (servername.toLowerCase() === host) return true;
    return this.lookup(servername)?.names.some((name) => certificateNameCovers(name, host)) ?? false;
  }

  /** Certificates held (expired ones included until the controller withdraws them). */
  get size(): number {
    return this.byId.size;
  }

  private build(id: string, entry: CertificateEntry, signature: string): (ServedCertificate & { signature: string }) | undefined {
    try {
      const key = openSecret(this.secretKey, entry.keySealed);
      const context = createSecureContext({ cert: entry.chainPem, key, minVersion: TLS_MIN_VERSION, ciphers: TLS_CIPHERS, honorCipherOrder: true });
      this.failed.delete(id);
      return { id, names: entry.names.map((n) => n.toLowerCase()), notAfter: entry.notAfter, context, signature };
    } catch (err) {
      if (this.failed.get(id) !== signature) {
        this.failed.set(id, signature);
        this.log.warn(
          { event: 'certificate-skipped', certificateId: id, names: entry.names, err: (err as Error).message },
          'cannot serve a certificate: its key does not open with this router\'s PAAS_SECRET_KEY_FILE, or the chain and key do not make a TLS context; the router serves the others',
        );
      }
      return undefined;
    }
  }
}
