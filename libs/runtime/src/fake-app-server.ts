import { createServer, type Server } from 'node:http';

/** The request that makes a fake app exit (see listenAsApp): `POST /__fake/exit?status=N&oom=1`. */
export const FAKE_APP_EXIT_PATH = '/__fake/exit';

/** How a fake app was asked to exit: its status, and whether as the OOM killer's victim. */
export interface FakeAppExit {
  status: number;
  oom: boolean;
}

/**
 * What a FakeRuntime container serves on its host port when asked to (FakeRuntimeConfig.serveOn):
 * an HTTP server on address:port answering every request 200 with `body`, as a healthy app
 * would, except `POST FAKE_APP_EXIT_PATH?status=N&oom=1` (both optional: status 1, no OOM), which
 * answers 202 and hands the exit to `onExit` (an app that crashes when told to, for tests of
 * the agent on the fake runtime). Rejects when the port is taken (as a DNAT'ed port would never be).
 */
export async function listenAsApp(address: string, port: number, body: string, onExit?: (exit: FakeAppExit) => void): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (onExit && req.method === 'POST' && url.pathname === FAKE_APP_EXIT_PATH) {
      const status = Number(url.searchParams.get('status') ?? 1);
      res.statusCode = 202;
      res.end('exiting\n', () => onExit({ status: Number.isInteger(status) ? status : 1, oom: url.searchParams.get('oom') === '1' }));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** Closes the server and every connection it holds; for a container that stopped. */
export function closeAppServer(server: Server | undefined): void {
  if (!server) return;
  server.close();
  server.closeAllConnections();
}
