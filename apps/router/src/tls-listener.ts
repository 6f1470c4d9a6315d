import { hkdfSync } from 'node:crypto';
import * as http from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import { Server as NetServer, type AddressInfo } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { TLS_CIPHERS } from '@paas/contracts';
import { TLS_MIN_VERSION, type CertificateTable } from './certificate-table';
import { ExtraListeners } from './listeners';

/** Session tickets are encrypted with a key that changes every hour (all routers change it together). */
export const TICKET_KEY_PERIOD_MS = 3_600_000;

/** Most streams one HTTP/2 connection may have open at once (node's default is unbounded). */
const MAX_CONCURRENT_STREAMS = 128;

/** An HTTP/2 connection with no frame for this long is closed (GOAWAY), like an idle HTTP/1.1 keep-alive. */
const H2_IDLE_TIMEOUT_MS = 65_000;

/**
 * The 48-byte session-ticket key of one period, derived from the platform secret key (HKDF):
 * every router process (SO_REUSEPORT siblings, other hosts) computes the same one, so a client
 * resumes its session at whichever router its next connection reaches. Pure.
 */
export function ticketKeysFor(secretKey: Buffer, period: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'paas-router-session-tickets', `period ${period}`, 48));
}

export interface TlsListenerOptions {
  certificates: CertificateTable;
  secretKey: Buffer;
  logger: Logger;
  /** Counts a handshake that failed: `no-certificate` (no SNI, or no certificate for it), or `error`. */
  handshakeFailed?: (reason: 'no-certificate' | 'error') => void;
  clock?: () => number;
}

/**
 * The router's TLS listener: one node:http2 secure server serving HTTP/2 and HTTP/1.1 (ALPN),
 * TLS 1.2+ with forward-secret AEAD suites, the certificate chosen per SNI name from the
 * CertificateTable. A client without SNI, or naming a host no unexpired certificate covers,
 * fails the handshake (alert handshake_failure; logged at debug): the router has no default
 * certificate that would only give it a name-mismatch warning. Session resumption by tickets
 * (TLS 1.2 and 1.3), their key shared by all routers (ticketKeysFor).
 *
 * Order: build, let RouterServer.serveTls attach the request handlers, `listen` once, then
 * `stopAccepting`, `closeIdle`, `cutAll` while draining.
 */
export class TlsListener {
  readonly server: Http2SecureServer;
  private readonly extra: ExtraListeners;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly log: Logger;
  private ticketTimer: NodeJS.Timeout | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: TlsListenerOptions) {
    this.log = options.logger.child({ module: 'tls' });
    this.clock = options.clock ?? Date.now;
    const { certificates } = options;
    this.server = createSecureServer({
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_CIPHERS,
      honorCipherOrder: true,
      sessionTimeout: TICKET_KEY_PERIOD_MS / 1000,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
        const served = certificates.lookup(servername);
        if (!served) this.log.debug({ event: 'tls-no-certificate', servername: servername.slice(0, 253) }, 'no certificate covers the SNI name: handshake refused');
        // No context: the server's own, which has no certificate, so the handshake fails.
        cb(null, served?.context);
      },
    });
    this.rotateTicketKeys();
    this.server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      const noCertificate = /NO_SUITABLE_SIGNATURE_ALGORITHM|NO_SHARED_CIPHER|no suitable signature|no shared cipher/i.test(`${err.code} ${err.message}`);
      options.handshakeFailed?.(noCertificate ? 'no-certificate' : 'error');
      this.log.debug({ event: 'tls-handshake-failed', code: err.code, err: err.message }, noCertificate ? 'TLS handshake refused: no SNI, or no certificate for it' : 'TLS handshake failed');
    });
    this.server.on('session', (session: ServerHttp2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      session.on('error', (err: NodeJS.ErrnoException) => this.log.debug({ event: 'h2-session-error', code: err.code }, 'HTTP/2 session error'));
      session.setTimeout(H2_IDLE_TIMEOUT_MS, () => session.close());
    });
    this.server.on('sessionError', (err: NodeJS.ErrnoException) => this.log.debug({ event: 'h2-session-error', code: err.code }, 'HTTP/2 session error'));
    this.extra = new ExtraListeners(this.server, (err) => this.log.error({ event: 'server-error', err }, 'router TLS listener error'));
  }

  /** Listens on `port` (0: a free one) with `listeners` sockets in one SO_REUSEPORT group when more than 1. Rejects if it cannot bind. */
  async listen(port: number, host: string, listeners: number, reusePort: boolean): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, reusePort: reusePort || listeners > 1 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.log.error({ event: 'server-error', err }, 'router TLS server error'));
    const bound = (this.server.address() as AddressInfo).port;
    await this.extra.listen(listeners - 1, bound, host);
    return bound;
  }

  /** HTTP/2 connections open now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Stops accepting (the listener and its extra sockets) and asks every HTTP/2 connection to end
   * (GOAWAY: its open streams finish, no new one starts). Resolves once every connection ended.
   */
  stopAccepting(): Promise<void> {
    clearTimeout(this.ticketTimer);
    const closed = Promise.all([new Promise<void>((resolve) => NetServer.prototype.close.call(this.server, () => resolve())), this.extra.close()]);
    for (const session of this.sessions) session.close();
    return closed.then(() => undefined);
  }

  /** Closes the idle HTTP/1.1 keep-alive connections. */
  closeIdle(): void {
    http.Server.prototype.closeIdleConnections.call(this.server);
  }

  /** Cuts every connection left (shutdown timeout). */
  cutAll(): void {
    http.Server.prototype.closeAllConnections.call(this.server);
    for (const session of this.sessions) session.destroy();
  }

  /** The ticket key of the current period now, the next one at the period's end. */
  private rotateTicketKeys(): void {
    const now = this.clock();
    const period = Math.floor(now / TICKET_KEY_PERIOD_MS);
    this.server.setTicketKeys(ticketKeysFor(this.options.secretKey, period));
    this.ticketTimer = setTimeout(() => this.rotateTicketKeys(), (period + 1) * TICKET_KEY_PERIOD_MS - now + 10).unref();
  }
}
