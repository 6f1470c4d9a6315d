import * as net from 'node:net';

/**
 * More accept queues for the router's port, all feeding its one http.Server.
 *
 * libuv (since 1.45, Node 20) accepts one connection per listening socket per event-loop turn.
 * Under a flood a turn serves every busy connection and takes tens of milliseconds, so a single
 * listening socket drains its accept queue at a few dozen connections a second: the queue, one
 * for every app, fills with the flood's connections, and any other client's new connection waits
 * behind them, for seconds once the queue is full and the kernel drops SYNs (retried after 1, 3,
 * 7 s). With `count` sockets in one SO_REUSEPORT group (the kernel spreads new connections over
 * them) the router accepts up to `count` per turn.
 *
 * The server listens itself (with `reusePort`), so it tracks every connection as usual;
 * `listen` adds the others on the port it got. Call `listen` once, after the server listens;
 * `close` stops them accepting and resolves once every connection they accepted has ended (the
 * http.Server serves and can close those connections like its own); safe twice.
 */
export class ExtraListeners {
  private readonly servers: net.Server[] = [];

  constructor(
    /** The http.Server, or the TLS server (which wraps each raw connection itself). */
    private readonly target: net.Server,
    private readonly onError: (err: Error) => void,
  ) {}

  async listen(extra: number, port: number, host: string): Promise<void> {
    for (let i = 0; i < extra; i++) {
      const listener = net.createServer((socket) => this.target.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ port, host, reusePort: true, exclusive: true }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
      listener.on('error', this.onError);
      this.servers.push(listener);
    }
  }

  close(): Promise<void> {
    const closing = this.servers.splice(0).map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())));
    return Promise.all(closing).then(() => undefined);
  }
}
