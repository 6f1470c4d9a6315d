/**
 * A plain Node app for tools/bench/fairness, run as a child process:
 * `node fairness-backend.js <port> <delay ms>`. It answers every request on 127.0.0.1:<port> with a
 * 100-byte body after `delay` ms (0: at once), keeps connections alive like a typical app server,
 * and stops on SIGTERM.
 */
import * as http from 'node:http';

const BODY = `${'hello from the fairness backend '.repeat(4).slice(0, 99)}\n`;

function main(): void {
  const [portArg = '', delayArg = '0'] = process.argv.slice(2);
  const port = Number(portArg);
  const delayMs = Number(delayArg);
  if (!Number.isInteger(port) || port <= 0 || !Number.isFinite(delayMs) || delayMs < 0) {
    console.error('usage: node fairness-backend.js <port> <delay ms>');
    process.exit(2);
  }
  const answer = (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) }).end(BODY);
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    if (delayMs === 0) answer(res);
    else setTimeout(() => answer(res), delayMs);
  });
  server.listen(port, '127.0.0.1', 4096);
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main();
