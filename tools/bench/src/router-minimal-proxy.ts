/**
 * A minimal reverse proxy for tools/bench/router's library comparison, run as a child process:
 * `node router-minimal-proxy.js <http-proxy|http-proxy-3> <listen port> <target port>`.
 * Both libraries get the same keep-alive agent (keepAlive, maxSockets 256) and nothing else: no
 * routing, no headers, no logging; a failed request gets a 502.
 */
import httpProxy from 'http-proxy';
import { createProxyServer } from 'http-proxy-3';
import * as http from 'node:http';

type Web = (req: http.IncomingMessage, res: http.ServerResponse, opts: { target: string }, cb: (err: Error) => void) => void;

function loadProxy(lib: string, agent: http.Agent): Web {
  if (lib === 'http-proxy') {
    const proxy = httpProxy.createProxyServer({ agent });
    proxy.on('error', () => undefined);
    return (req, res, opts, cb) => proxy.web(req, res, opts, cb);
  }
  if (lib === 'http-proxy-3') {
    const proxy = createProxyServer({ agent });
    proxy.on('error', () => undefined);
    return (req, res, opts, cb) => proxy.web(req, res, opts, cb);
  }
  throw new Error(`unknown library "${lib}" (http-proxy or http-proxy-3)`);
}

async function main(): Promise<void> {
  const [lib = '', listenPort = '', targetPort = ''] = process.argv.slice(2);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const web = loadProxy(lib, agent);
  const target = `http://127.0.0.1:${Number(targetPort)}`;
  const server = http.createServer((req, res) => {
    web(req, res, { target }, () => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    });
  });
  server.listen(Number(listenPort), '127.0.0.1', () => console.log(`${lib} proxy listening on ${listenPort}`));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    agent.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
