import { isAbsolute } from 'node:path';
import { ipv4ToNumber } from '@paas/contracts';
import type { ContainerSpec } from './container-runtime';
import { validateEgressRule } from './egress';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,59}$/;

/**
 * The rules every runtime applies to a spec before doing anything (the runc driver and the fake
 * share them, so the fake never accepts what the real one refuses). `prefix`: the id must start
 * with it, when given.
 */
export function validateContainerSpec(spec: ContainerSpec, prefix?: string): void {
  const fail = (message: string): never => {
    throw new RuntimeError(RuntimeErrorCode.InvalidSpec, `container ${spec.id}: ${message}`);
  };
  if (!ID_PATTERN.test(spec.id)) fail('id must be [a-z0-9-], at most 60 characters');
  if (prefix !== undefined && !spec.id.startsWith(prefix)) fail(`id must start with "${prefix}"`);
  if (spec.command.length === 0) fail('command is empty');
  if (!isAbsolute(spec.cwd)) fail('cwd must be absolute');
  if (spec.user.uid === 0 || spec.user.gid === 0) fail('containers never run as root (uid/gid 0)');
  if (!(spec.memoryMb >= 6)) fail('memoryMb must be at least 6');
  if (spec.diskMb !== undefined && !(Number.isInteger(spec.diskMb) && spec.diskMb >= 1 && spec.diskMb <= 16 * 1024 * 1024)) {
    fail('diskMb must be an integer from 1 to 16777216 (16 TiB)');
  }
  if (spec.cpuMillicores !== undefined && !(Number.isInteger(spec.cpuMillicores) && spec.cpuMillicores >= 10 && spec.cpuMillicores <= 1_000_000)) {
    fail('cpuMillicores must be an integer from 10 (the kernel\'s 1 ms quota per 100 ms) to 1000000');
  }
  if (!(Number.isInteger(spec.pidsLimit) && spec.pidsLimit > 0)) fail('pidsLimit must be a positive integer');
  if (spec.containerPort !== undefined && !isPort(spec.containerPort)) fail('containerPort must be an integer from 1 to 65535');
  if (spec.hostPort !== undefined) {
    if (spec.containerPort === undefined) fail('hostPort needs a containerPort to map it to');
    if (!isPort(spec.hostPort)) fail('hostPort must be an integer from 1 to 65535');
  }
  if (spec.service && spec.containerPort === undefined) fail('a service container needs a containerPort (and its hostPort)');
  for (const layer of spec.layers) if (!isAbsolute(layer)) fail(`layer "${layer}" must be absolute`);
  for (const bind of spec.binds ?? []) {
    if (!isAbsolute(bind.source) || !isAbsolute(bind.destination)) fail('bind paths must be absolute');
  }
  for (const [i, rule] of (spec.egress?.allow ?? []).entries()) validateEgressRule(rule, `container ${spec.id}: egress allow[${i}]`);
  for (const [i, rule] of (spec.egress?.rules ?? []).entries()) validateEgressRule(rule, `container ${spec.id}: egress rules[${i}]`);
  for (const [i, service] of (spec.egress?.services ?? []).entries()) {
    if (typeof service.host !== 'string' || ipv4ToNumber(service.host) === undefined || !isPort(service.port)) fail(`egress services[${i}] must be an IPv4 address and a port 1-65535, not ${JSON.stringify(service)}`);
    if (service.host.startsWith('127.')) fail(`egress services[${i}]: ${service.host} is the container's own loopback; a service of this host is reached at the container's bridge gateway`);
  }
}

const isPort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65535;
