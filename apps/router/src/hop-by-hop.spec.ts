import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { connectionTokens, stripHopByHop } from './hop-by-hop';

describe('stripHopByHop', () => {
  it('removes the standard hop-by-hop headers and every one Connection names', () => {
    const headers: IncomingHttpHeaders = {
      host: 'a.example',
      connection: 'close, X-Secret,, x-other ',
      'x-secret': 's',
      'x-other': 'o',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-sum',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic eDp5',
      'x-kept': 'k',
    };
    stripHopByHop(headers);
    assert.deepEqual(headers, { host: 'a.example', 'x-kept': 'k' });
  });

  it('never removes what frames or routes the message', () => {
    const headers: IncomingHttpHeaders = { host: 'a.example', connection: 'Host, Content-Length, Transfer-Encoding', 'content-length': '3', 'transfer-encoding': 'chunked' };
    stripHopByHop(headers);
    assert.deepEqual(headers, { host: 'a.example', 'content-length': '3', 'transfer-encoding': 'chunked' });
  });

  it('keeps a WebSocket upgrade as exactly Connection: Upgrade and Upgrade: websocket', () => {
    const headers: IncomingHttpHeaders = { connection: 'keep-alive, Upgrade, X-Secret', upgrade: 'WebSocket', 'x-secret': 's', 'sec-websocket-key': 'k' };
    stripHopByHop(headers, { websocket: true });
    assert.deepEqual(headers, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
  });

  it('reads Connection tokens from one or several lines', () => {
    assert.deepEqual(connectionTokens(undefined), []);
    assert.deepEqual(connectionTokens(['Close', ' X-A , x-b']), ['close', 'x-a', 'x-b']);
  });
});
