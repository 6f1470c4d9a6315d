/**
 * HTTPS clients for the e2e specs: node:https (HTTP/1.1) and node:http2 to the router's TLS
 * listener on 127.0.0.1 with SNI `host`, trusting only `ca` (so a handshake that succeeds proves
 * the served chain leads to that root), each on a fresh connection (a new handshake).
 */
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { request } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface TlsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The leaf the router presented. */
  certificate: Pick<PeerCertificate, 'subject' | 'issuer' | 'valid_to' | 'serialNumber' | 'subjectaltname'>;
  /** The ALPN protocol agreed: 'http/1.1' or 'h2'. */
  alpn: string | false | null;
}

const leafOf = (socket: TLSSocket) => {
  const c = socket.getPeerCertificate();
  return { subject: c.subject, issuer: c.issuer, valid_to: c.valid_to, serialNumber: c.serialNumber, subjectaltname: c.subjectaltname };
};

/** GET https://host:port/path over HTTP/1.1 (agent off: a new TLS handshake each call). */
export function httpsGet(port: number, host: string, ca: string, path = '/'): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: host, ca, agent: false, headers: { host, accept: 'application/json' }, ...({ ALPNProtocols: ['http/1.1'] } as object) }, (res) => {
      const socket = res.socket as TLSSocket;
      const certificate = leafOf(socket);
      const alpn = socket.alpnProtocol;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body, certificate, alpn }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`https://${host}:${port}${path} did not answer in 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET over HTTP/2 (ALPN h2 only), one session per call. */
export function http2Get(port: number, host: string, ca: string, path = '/'): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { servername: host, ca, ALPNProtocols: ['h2'] });
    const fail = (error: Error) => {
      session.destroy();
      reject(error);
    };
    session.on('error', fail);
    session.setTimeout(15_000, () => fail(new Error(`h2 https://${host}:${port}${path} did not answer in 15 s`)));
    const stream = session.request({ [h2.HTTP2_HEADER_PATH]: path, [h2.HTTP2_HEADER_AUTHORITY]: host, accept: 'application/json' });
    let status = 0;
    let headers: Record<string, string> = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[h2.HTTP2_HEADER_STATUS]);
      headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, String(v)]));
    });
    stream.on('data', (d: string) => (body += d));
    stream.on('error', fail);
    stream.on('end', () => {
      const socket = session.socket as TLSSocket;
      const answer = { status, headers, body, certificate: leafOf(socket), alpn: socket.alpnProtocol };
      session.close();
      resolve(answer);
    });
  });
}

/** The leaf presented for SNI `host`, without an HTTP request; undefined when the handshake fails (with `ca`). */
export async function presented(port: number, host: string, ca: string): Promise<TlsAnswer['certificate'] | undefined> {
  return httpsGet(port, host, ca, '/.well-known/paas-probe').then(
    (a) => a.certificate,
    () => undefined,
  );
}
