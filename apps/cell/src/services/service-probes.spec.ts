import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { countEstablished, redisAnswers } from './service-probes';

// /proc/net/tcp as a container with redis on 6379 shows it: the listener, two clients, one closing, one outgoing.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1002000        0 1 1 0000000000000000 100 0 0 10 0
   1: 0200FB0A:18EB 0100FB0A:A1B2 01 00000000:00000000 00:00000000 00000000 1002000        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0200FB0A:18EB 0100FB0A:A1B3 01 00000000:00000000 00:00000000 00000000 1002000        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0200FB0A:18EB 0100FB0A:A1B4 06 00000000:00000000 03:00000000 00000000 0        0 0 3 0000000000000000
   4: 0200FB0A:D431 0100FB0A:18EB 01 00000000:00000000 00:00000000 00000000 1002000        0 4 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 1002000        0 5 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000200FB0A:1538 0000000000000000FFFF00000100FB0A:C000 01 00000000:00000000 00:00000000 00000000 1002000        0 6 1 0000000000000000 20 4 30 10 -1
`;

describe('service probes', () => {
  it('counts the established sockets whose local port is the server\'s (not listeners, closing ones or its own outgoing ones)', () => {
    assert.equal(countEstablished(TCP, 6379), 2);
    assert.equal(countEstablished(TCP6, 5432), 1);
    assert.equal(countEstablished(TCP6, 6379), 0);
    assert.equal(countEstablished('', 6379), 0);
  });

  describe('redisAnswers', () => {
    let server: Server;
    let port = 0;
    /** What the fake server answers to AUTH + PING, by the password it was sent. */
    const replies: Record<string, string> = { good: '+OK\r\n+PONG\r\n', loading: '+OK\r\n-LOADING Redis is loading the dataset in memory\r\n', wrong: '-WRONGPASS invalid username-password pair\r\n-NOAUTH Authentication required.\r\n' };
    const received: string[] = [];
    before(async () => {
      server = createServer((socket) => {
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
          if (!text.includes('PING\r\n')) return;
          received.push(text);
          const password = Object.keys(replies).find((p) => text.includes(`\r\n${p}\r\n`));
          socket.end(password ? replies[password] : '');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    after(() => new Promise((resolve) => server.close(resolve)));

    it('is true only for +OK then +PONG: not while loading, not for a wrong login, not when nothing listens', async () => {
      assert.equal(await redisAnswers('127.0.0.1', port, 'admin', 'good'), true);
      assert.equal(received[0], '*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$4\r\ngood\r\n*1\r\n$4\r\nPING\r\n');
      assert.equal(await redisAnswers('127.0.0.1', port, 'admin', 'loading'), false);
      assert.equal(await redisAnswers('127.0.0.1', port, 'admin', 'wrong'), false);
      assert.equal(await redisAnswers('127.0.0.1', port, 'admin', 'silent'), false);
      assert.equal(await redisAnswers('127.0.0.1', 1, 'admin', 'good'), false);
    });
  });
});
