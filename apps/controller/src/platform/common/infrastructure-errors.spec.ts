import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unavailableService } from './infrastructure-errors';

const prismaError = (name: string, fields: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), { name, ...fields });

test("Prisma's connection errors are the database being out of reach", () => {
  assert.equal(unavailableService(prismaError('PrismaClientKnownRequestError', { code: 'P1001' }, "Can't reach database server at 127.0.0.1:5432")), 'database');
  assert.equal(unavailableService(prismaError('PrismaClientKnownRequestError', { code: 'P1017' })), 'database');
  assert.equal(unavailableService(prismaError('PrismaClientInitializationError', { errorCode: 'P1001' })), 'database');
  const adapter = { name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable' } };
  assert.equal(unavailableService(prismaError('PrismaClientKnownRequestError', { code: 'P2010', meta: { driverAdapterError: adapter } })), 'database');
  assert.equal(unavailableService(Object.assign(new Error('x'), adapter)), 'database');
  assert.equal(unavailableService(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), 'database');
  assert.equal(unavailableService(new Error('wrapped', { cause: prismaError('PrismaClientKnownRequestError', { code: 'P1001' }) })), 'database');
});

test("ioredis's closed connection is Redis being out of reach", () => {
  assert.equal(unavailableService(prismaError('MaxRetriesPerRequestError', {})), 'redis');
  assert.equal(unavailableService(new Error('Connection is closed.')), 'redis');
  // The fail-fast connection of API reads: Redis paused (no answer), Redis down (no offline queue).
  assert.equal(unavailableService(new Error('Command timed out')), 'redis');
  assert.equal(unavailableService(new Error("Stream isn't writeable and enableOfflineQueue options is false")), 'redis');
});

test('anything else is a bug, not an outage', () => {
  assert.equal(unavailableService(prismaError('PrismaClientKnownRequestError', { code: 'P2002' })), undefined);
  const badInput = { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode: '22021' } };
  assert.equal(unavailableService(prismaError('PrismaClientKnownRequestError', { code: 'P2039', meta: { driverAdapterError: badInput } })), undefined);
  assert.equal(unavailableService(new TypeError('x is undefined')), undefined);
  assert.equal(unavailableService(undefined), undefined);
  assert.equal(unavailableService('a string'), undefined);
});
