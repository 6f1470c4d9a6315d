const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const app = JSON.parse(process.env.VCAP_APPLICATION || '{}');

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(`Hello from ${app.application_name || 'hello-node'} instance ${process.env.INSTANCE_INDEX ?? '?'} (pid ${process.pid}, uid ${process.getuid()})\n`);
});

server.listen(port, () => console.log(`hello-node listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
