import { randomBytes } from 'node:crypto';
import type { ServiceKind } from '@paas/contracts';

/**
 * The names and secrets the controller makes on a service instance's server. Every identifier
 * that reaches SQL or an ACL rule is derived here from one of our own UUIDs (hex digits only),
 * never from tenant input; passwords are random [A-Za-z0-9]. Pure but for the random bytes.
 */

const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The server's superuser (postgres) or sole ACL user (redis) the cell creates from start-service. */
export const ADMIN_USER = 'paas_admin';

/** `length` characters of [A-Za-z0-9], uniformly (bytes past the largest multiple of 62 are dropped). */
export function randomPassword(length = 32): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue; // 248 = 4 * 62: keeps every character equally likely
      out += PASSWORD_ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** The 32 hex digits of a UUID; throws on anything else, so no other text can become an identifier. */
function hexOf(uuid: string): string {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a UUID: ${JSON.stringify(uuid)}`);
  return hex;
}

/** The login a binding gets on the server (postgres role, redis ACL user). */
export function bindingUsername(bindingId: string): string {
  return `b_${hexOf(bindingId)}`;
}

/** The login a service key gets (`k_`: never one of a binding's, whose ids are other UUIDs anyway). */
export function keyUsername(keyId: string): string {
  return `k_${hexOf(keyId)}`;
}

/** The postgres instance's NOLOGIN owner role: owns its database; every binding's sessions act as it. */
export function ownerRole(instanceId: string): string {
  return `o_${hexOf(instanceId)}`;
}

/** The postgres instance's database. */
export function databaseName(instanceId: string): string {
  return `d_${hexOf(instanceId)}`;
}

/** A login the binding and key use cases check before it goes near SQL or an ACL rule (a binding's or a key's). */
export function isOurUsername(name: string): boolean {
  return /^[bk]_[0-9a-f]{32}$/.test(name);
}

/**
 * What an app is given of a binding, in Cloud Foundry's shape: uri, host, port, username,
 * password, name (the database for postgres, the login for redis) and database (postgres).
 */
export function bindingCredentials(
  kind: ServiceKind,
  instanceId: string,
  endpoint: { host: string; port: number },
  login: { username: string; password: string },
): Record<string, string | number> {
  const auth = `${login.username}:${login.password}`;
  if (kind === 'postgresql') {
    const database = databaseName(instanceId);
    return {
      uri: `postgres://${auth}@${endpoint.host}:${endpoint.port}/${database}`,
      host: endpoint.host,
      port: endpoint.port,
      username: login.username,
      password: login.password,
      database,
      name: database,
    };
  }
  return {
    uri: `redis://${auth}@${endpoint.host}:${endpoint.port}`,
    host: endpoint.host,
    port: endpoint.port,
    username: login.username,
    password: login.password,
    name: login.username,
  };
}
