/**
 * Tiny HTTP and WebSocket backends on 127.0.0.1 that record what reached them, and a request
 * helper that sends a Host header on a fresh connection: what a router or proxy spec talks to.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type * as net from 'node:net';

export interface Backend {
  name: string;
  port: number;
  address: string;
  seen: http.IncomingHttpHeaders[];
  /** Request targets (path and query) it received. */
  paths: string[];
  /** Upgraded (WebSocket) connections still open on the backend side (WebSocket backends only). */
  openSockets?(): number;
  close(): Promise<void>;
}

/** A tiny app: answers `hello from <name>` and records the headers and paths it saw. */
export async function startBackend(name: string): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    paths.push(req.url ?? '');
    const body = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      body.update(c);
      length += c.length;
    });
    req.on('end', () => res.end(length === 0 ? `hello from ${name}` : `${name} got ${length} bytes ${body.digest('hex')}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    seen,
    paths,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A WebSocket echo backend: the server handshake and single small frames, by hand. */
export async function startWsEchoBackend(): Promise<Backend> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((_req, res) => res.end('not a websocket'));
  const sockets = new Set<net.Socket>();
  server.on('upgrade', (req, socket: net.Socket) => {
    seen.push(req.headers);
    const accept = createHash('sha1')
      .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      // Client frames are masked; this echo only handles payloads under 126 bytes.
      while (buffered.length >= 6) {
        const opcode = buffered[0]! & 0x0f;
        const length = buffered[1]! & 0x7f;
        if (buffered.length < 6 + length) return;
        const mask = buffered.subarray(2, 6);
        const payload = Buffer.from(buffered.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4]!));
        buffered = buffered.subarray(6 + length);
        if (opcode === 0x8) {
          socket.end(Buffer.from([0x88, 0x00]));
          return;
        }
        socket.write(Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name: 'ws-echo',
    port,
    address: `127.0.0.1:${port}`,
    seen,
    paths: [],
    openSockets: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to 127.0.0.1:port (a router, a proxy) with the given Host header, on a fresh connection. */
export function request(port: number, host: string, path = '/', headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const method = body ? 'POST' : 'GET';
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false, headers: { host, ...headers }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
