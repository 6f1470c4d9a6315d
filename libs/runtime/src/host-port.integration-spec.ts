import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ContainerSpec } from './container-runtime';
import { createTestRuntime, getWhenUp, type TestRuntime } from './integration-test-support';
import { RuncRuntime } from './runc-runtime';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** An HTTP server that names its container. */
const SERVER_JS = `
require('http').createServer((req, res) => res.end(process.env.NAME)).listen(8080, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

const isPortInUse = (error: unknown) => error instanceof RuntimeError && error.code === RuntimeErrorCode.PortInUse;

describe('a fixed host port (ContainerSpec.hostPort, real runc, as root)', () => {
  let fixture: TestRuntime;
  let hostListener: Server | undefined;
  /** Outside the runtime's range (portBase..portBase+49), as a cell's service range is. */
  const servicePort = portBase + 70;
  const spec = (id: string, overrides: Partial<ContainerSpec> = {}) => fixture.spec(`hp${suffix}-${id}`, { env: { NAME: id }, ...overrides });

  before(async () => {
    fixture = await createTestRuntime({
      name: `hp${suffix}`,
      portBase,
      appFiles: { 'server.js': SERVER_JS },
      defaults: { command: ['/usr/bin/node', '/app/server.js'], containerPort: 8080, pidsLimit: 64 },
    });
  });

  after(async () => {
    hostListener?.close();
    await fixture.dispose();
  });

  it('gives the container exactly that port, and refuses it to another container (PortInUse) without leaving anything behind', async () => {
    const svc = await fixture.runtime.start(spec('svc', { hostPort: servicePort, service: true }));
    assert.equal(svc.hostPort, servicePort);
    assert.equal(await (await getWhenUp(servicePort, '/')).text(), 'svc');
    await assert.rejects(fixture.runtime.start(spec('twin', { hostPort: servicePort })), isPortInUse);
    assert.equal(await fixture.runtime.inspect(`hp${suffix}-twin`), undefined, 'the refused container holds nothing');
    assert.equal(await (await getWhenUp(servicePort, '/')).text(), 'svc', 'the holder still serves');
  });

  it('a fixed port inside the range is never handed out by the allocator while held', async () => {
    const fixed = await fixture.runtime.start(spec('fixed', { hostPort: portBase }));
    assert.equal(fixed.hostPort, portBase);
    const ranged = await fixture.runtime.start(spec('ranged'));
    assert.notEqual(ranged.hostPort, portBase);
    assert.ok(ranged.hostPort! > portBase && ranged.hostPort! <= portBase + 49, `${ranged.hostPort} in the range`);
    assert.equal(await (await getWhenUp(portBase, '/')).text(), 'fixed');
    await fixture.runtime.destroy(fixed.id);
    await fixture.runtime.destroy(ranged.id);
  });

  it('recover() returns the container with its host port, which stays held', async () => {
    const restarted = new RuncRuntime(fixture.config);
    const handles = await restarted.recover();
    assert.equal(handles.find((handle) => handle.id === `hp${suffix}-svc`)?.hostPort, servicePort);
    await assert.rejects(restarted.start(spec('late', { hostPort: servicePort })), isPortInUse);
    assert.equal(await (await getWhenUp(servicePort, '/')).text(), 'svc');
  });

  it('refuses a port something on the host listens on (PortInUse)', async () => {
    const taken = portBase + 71;
    hostListener = createServer();
    await new Promise<void>((resolve) => hostListener!.listen(taken, '127.0.0.1', resolve));
    await assert.rejects(fixture.runtime.start(spec('shadow', { hostPort: taken })), isPortInUse);
  });

  it('refuses a hostPort without a containerPort, and a port out of range (InvalidSpec)', async () => {
    const invalid = (error: unknown) => error instanceof RuntimeError && error.code === RuntimeErrorCode.InvalidSpec;
    await assert.rejects(fixture.runtime.start(spec('bare', { containerPort: undefined, hostPort: portBase + 72 })), invalid);
    await assert.rejects(fixture.runtime.start(spec('huge', { hostPort: 70_000 })), invalid);
  });
});
