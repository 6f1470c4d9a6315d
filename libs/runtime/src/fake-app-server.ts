import { createServer, type Server } from 'node:http';

/**
 * What a FakeRuntime container serves on its host port when asked to (FakeRuntimeConfig.serveOn):
 * an HTTP server on address:port answering every request 200 with `body`, as a healthy app
 * would. Rejects when the port is taken (as a DNAT'ed port would never be).
 */
export async function listenAsApp(address: string, port: number, body: string): Promise<Server> {
  const server = createServer((_req, res) => res.end(body));
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
