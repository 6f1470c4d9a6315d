/** Test helpers that set up tenancy through the API itself: orgs, spaces, users with tokens, roles, apps. */
import assert from 'node:assert/strict';
import type { ApiResponse, ControllerHarness } from './controller-harness';

export interface TestUser {
  id: string;
  name: string;
  token: string;
}

/** Fails the test with the answer's body when the status is not the expected one. */
export function expectStatus(res: ApiResponse, status: number, what = ''): ApiResponse {
  assert.equal(res.status, status, `${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

export async function createOrg(h: ControllerHarness, name: string): Promise<string> {
  return expectStatus(await h.call('POST', '/v1/orgs', { name }), 201, `create org ${name}`).body.id;
}

export async function createSpace(h: ControllerHarness, orgId: string, name: string): Promise<string> {
  return expectStatus(await h.call('POST', '/v1/spaces', { name, org_id: orgId }), 201, `create space ${name}`).body.id;
}

/** A new (non-admin) user and an API token of its own. */
export async function createUser(h: ControllerHarness, name: string): Promise<TestUser> {
  const user = expectStatus(await h.call('POST', '/v1/users', { name }), 201, `create user ${name}`).body;
  const token = expectStatus(await h.call('POST', `/v1/users/${user.id}/tokens`, { name: 'test' }), 201, `token of ${name}`).body.token;
  return { id: user.id, name, token };
}

export async function grant(h: ControllerHarness, spaceId: string, user: TestUser, role: 'admin' | 'developer' | 'viewer'): Promise<void> {
  expectStatus(await h.call('PUT', `/v1/spaces/${spaceId}/roles`, { user_id: user.id, role }), 200, `grant ${role} to ${user.name}`);
}

/** An app without a default route, created by the admin. */
export async function createApp(h: ControllerHarness, spaceId: string, name: string): Promise<string> {
  return expectStatus(await h.call('POST', '/v1/apps', { name, space_id: spaceId, no_route: true }), 201, `create app ${name}`).body.id;
}

/** The id of the platform's default shared domain. */
export async function defaultDomainId(h: ControllerHarness): Promise<string> {
  const domains = expectStatus(await h.call('GET', '/v1/domains'), 200).body.resources as Array<{ id: string; default: boolean }>;
  const domain = domains.find((d) => d.default);
  assert.ok(domain, 'the default apps domain exists');
  return domain.id;
}
