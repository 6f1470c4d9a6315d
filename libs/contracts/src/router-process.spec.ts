import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { missingRouterNodeFlags, ROUTER_NODE_FLAGS } from './router-process';

describe('the router\'s Node flags', () => {
  it('names the flags a process lacks, whether given on the command line or in NODE_OPTIONS', () => {
    assert.deepEqual(missingRouterNodeFlags([]), [...ROUTER_NODE_FLAGS]);
    assert.deepEqual(missingRouterNodeFlags([...ROUTER_NODE_FLAGS]), []);
    assert.deepEqual(missingRouterNodeFlags(['--use-system-ca'], ` --inspect  ${ROUTER_NODE_FLAGS.join(' ')} `), []);
    assert.deepEqual(missingRouterNodeFlags(['--max-semi-space-size=16']), ['--max-semi-space-size=2'], 'another size is not the flag');
  });

  it('are on the ExecStart line of the systemd unit a router host runs', () => {
    const unit = readFileSync(join(__dirname, '..', '..', '..', 'infra', 'systemd', 'paas-router@.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    const args = execStart.split(/\s+/);
    const script = args.findIndex((a) => a.endsWith('apps/router/dist/main.js'));
    assert.ok(script > 0, `ExecStart runs the router: ${execStart}`);
    assert.deepEqual(missingRouterNodeFlags(args.slice(1, script)), [], `ExecStart gives node the flags before the script: ${execStart}`);
  });
});
