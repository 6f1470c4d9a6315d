/**
 * A probe tenants' apps in the e2e specs carry: `probe('host:port')` resolves to 'open' when a
 * TCP connection is accepted, 'timeout' after 2 s, or the error code (ECONNREFUSED, ...).
 */
export const PROBE_FUNCTION = `
const probe = (target) => new Promise((resolve) => {
  const i = target.lastIndexOf(':');
  const socket = require('net').connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)), timeout: 2000 });
  socket.once('connect', () => { socket.destroy(); resolve('open'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (e) => resolve(e.code));
});
const probeAll = async (url) => {
  const targets = (url.searchParams.get('targets') || '').split(',').filter(Boolean);
  const results = await Promise.all(targets.map(probe));
  return Object.fromEntries(targets.map((t, i) => [t, results[i]]));
};
`;

/** The attacker's app: /probe?targets=host:port,... connects to each; /whoami says its own address. */
export const PROBE_SERVER = `
const http = require('http'), os = require('os');
${PROBE_FUNCTION}
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app');
  let body;
  if (url.pathname === '/whoami') body = { ip: (os.networkInterfaces().eth0 || []).find((a) => a.family === 'IPv4')?.address };
  else body = await probeAll(url);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}).listen(Number(process.env.PORT), '0.0.0.0');
`;
