/**
 * ExtraListeners against the real kernel: more SO_REUSEPORT sockets on the port of one
 * http.Server, every connection served by that server, and only its own socket left after close.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ExtraListeners } from './listeners';

/** Listening TCP sockets on 127.0.0.1:port, from /proc/net/tcp (state 0A). */
function listeningSockets(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f[1] === `0100007F:${hexPort}` && f[3] === '0A';
    }).length;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('ExtraListeners', () => {
  it('adds SO_REUSEPORT sockets whose connections the one http.Server serves, and closes them', async () => {
    let served = 0;
    const server = http.createServer((_req, res) => {
      served += 1;
      res.end('ok');
    });
    const errors: Error[] = [];
    const extra = new ExtraListeners(server, (err) => errors.push(err));
    try {
      await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', reusePort: true }, resolve));
      const { port } = server.address() as AddressInfo;
      await extra.listen(3, port, '127.0.0.1');
      assert.equal(listeningSockets(port), 4);

      const bodies = await Promise.all(Array.from({ length: 40 }, () => get(port)));
      assert.ok(bodies.every((b) => b === 'ok'));
      assert.equal(served, 40, 'every connection, whichever socket accepted it, reached the http.Server');

      extra.close();
      extra.close();
      assert.equal(listeningSockets(port), 1, 'the server keeps its own socket');
      assert.equal(await get(port), 'ok');
      assert.deepEqual(errors, []);
    } finally {
      extra.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
