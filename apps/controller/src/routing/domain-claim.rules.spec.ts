import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideClaim, parentNames, PENDING_CLAIM_HOLD_MS, type ExistingDomain } from './domain-claim.rules';

const now = new Date('2026-12-06T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const domain = (name: string, orgId: string | null, state: { verified?: boolean; ageMs?: number } = {}): ExistingDomain => ({
  id: `id-${name}`,
  name,
  orgId,
  verifiedAt: state.verified === false ? null : ago(1000),
  createdAt: ago(state.ageMs ?? 1000),
});
const claim = (name: string, orgId: string | null, visible: string[] | 'all' = ['mine']) => ({ name, orgId, visibleOrgIds: visible === 'all' ? undefined : visible, now });

function refusal(decision: ReturnType<typeof decideClaim>): { code: string; message: string; details: unknown } {
  assert.equal(decision.kind, 'refused');
  const { code, message, details } = (decision as { error: { code: string; message: string; details: unknown } }).error;
  return { code, message, details };
}

describe('decideClaim', () => {
  it('parentNames lists every name above', () => {
    assert.deepEqual(parentNames('a.shop.example.test'), ['shop.example.test', 'example.test', 'test']);
  });

  it('a free name is claimed', () => {
    assert.deepEqual(decideClaim(claim('shop.example.test', 'mine'), []), { kind: 'claim', replace: [] });
  });

  it("another org's verified domain: 409 held, neither its org nor its id told to who cannot see it", () => {
    const r = refusal(decideClaim(claim('shop.example.test', 'mine'), [domain('shop.example.test', 'theirs')]));
    assert.equal(r.code, 'domain-held');
    assert.match(r.message, /the domain shop.example.test is held by another org/);
    assert.doesNotMatch(r.message, /theirs|id-/);
    assert.deepEqual(r.details, { pending: false });
  });

  it("another org's pending claim holds 72 h, then is replaced", () => {
    const young = domain('shop.example.test', 'theirs', { verified: false, ageMs: PENDING_CLAIM_HOLD_MS - 60_000 });
    const r = refusal(decideClaim(claim('shop.example.test', 'mine'), [young]));
    assert.equal(r.code, 'domain-held');
    assert.match(r.message, /pending verification by another org \(until it is verified, or for 72 h after it was made: 2026-12-06T12:01:00.000Z\)/);
    const old = domain('shop.example.test', 'theirs', { verified: false, ageMs: PENDING_CLAIM_HOLD_MS });
    const nestedOld = domain('a.shop.example.test', 'other', { verified: false, ageMs: PENDING_CLAIM_HOLD_MS + 1 });
    assert.deepEqual(decideClaim(claim('shop.example.test', 'mine'), [old, nestedOld]), { kind: 'claim', replace: [old, nestedOld] });
  });

  it("nested names of another org: 422 overlaps, without the other name unless the org is visible", () => {
    for (const other of [domain('example.test', 'theirs'), domain('a.shop.example.test', 'theirs'), domain('a.shop.example.test', 'theirs', { verified: false })]) {
      const r = refusal(decideClaim(claim('shop.example.test', 'mine'), [other]));
      assert.equal(r.code, 'unprocessable');
      assert.match(r.message, /overlaps a domain of another org, inside or above it,/);
      const rest = r.message.replaceAll('shop.example.test', 'CLAIMED');
      assert.ok(!rest.includes(other.name) && !rest.includes('a.CLAIMED') && !/theirs|\d{4}-\d\d/.test(rest), rest);
    }
    const admin = refusal(decideClaim(claim('shop.example.test', 'mine', 'all'), [domain('example.test', 'theirs')]));
    assert.match(admin.message, /overlaps domain example.test of org theirs, above it, held/);
  });

  it("a shared domain's subdomains are refused; the same name is taken; a name above it overlaps", () => {
    const shared = domain('apps.localhost', null);
    const inside = refusal(decideClaim(claim('foo.apps.localhost', 'mine'), [shared]));
    assert.equal(inside.code, 'unprocessable');
    assert.match(inside.message, /foo.apps.localhost is inside the shared domain apps.localhost: .*host "foo"/);
    assert.equal(refusal(decideClaim(claim('apps.localhost', 'mine'), [shared])).code, 'name-taken');
    assert.match(refusal(decideClaim(claim('localhost', 'mine'), [shared])).message, /overlaps the shared domain apps.localhost/);
  });

  it('the same org: its own name exists (409 with the id), nested names overlap (422)', () => {
    const own = domain('example.test', 'mine', { verified: false, ageMs: PENDING_CLAIM_HOLD_MS * 2 });
    const same = refusal(decideClaim(claim('example.test', 'mine'), [own]));
    assert.equal(same.code, 'name-taken');
    assert.match(same.message, /already exists \(id id-example.test\)/);
    assert.match(refusal(decideClaim(claim('shop.example.test', 'mine'), [own])).message, /overlaps domain example.test of the same org/);
  });

  it('the same name is answered before a nested one', () => {
    const r = refusal(decideClaim(claim('shop.example.test', 'mine'), [domain('a.shop.example.test', 'x'), domain('shop.example.test', 'theirs')]));
    assert.equal(r.code, 'domain-held');
  });
});
