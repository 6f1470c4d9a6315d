import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideClaim, decideVerification, parentNames, type ExistingDomain } from './domain-claim.rules';

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

function refusal(decision: { kind: string }): { code: string; message: string; details: unknown } {
  assert.equal(decision.kind, 'refused');
  const { code, message, details } = (decision as unknown as { error: { code: string; message: string; details: unknown } }).error;
  return { code, message, details };
}

describe('decideClaim', () => {
  it('parentNames lists every name above', () => {
    assert.deepEqual(parentNames('a.shop.example.test'), ['shop.example.test', 'example.test', 'test']);
  });

  it('a free name is claimed', () => {
    assert.deepEqual(decideClaim(claim('shop.example.test', 'mine'), []), { kind: 'claim' });
  });

  it("another org's verified domain: 409 held, neither its org nor its id told to who cannot see it", () => {
    const r = refusal(decideClaim(claim('shop.example.test', 'mine'), [domain('shop.example.test', 'theirs')]));
    assert.equal(r.code, 'domain-held');
    assert.match(r.message, /the domain shop.example.test is held by another org/);
    assert.doesNotMatch(r.message, /theirs|id-/);
    assert.deepEqual(r.details, {});
  });

  it("another org's pending claims never stand in the way, of the same name or of nested ones (squatting)", () => {
    const pending = [
      domain('shop.example.test', 'theirs', { verified: false }),
      domain('a.shop.example.test', 'other', { verified: false }),
      domain('example.test', 'third', { verified: false }),
    ];
    assert.deepEqual(decideClaim(claim('shop.example.test', 'mine'), pending), { kind: 'claim' });
    assert.deepEqual(decideClaim(claim('co.uk', 'mine'), [domain('shop.co.uk', 'theirs', { verified: false })]), { kind: 'claim' });
  });

  it("nested names of another org: 422 overlaps, without the other name unless the org is visible", () => {
    for (const other of [domain('example.test', 'theirs'), domain('a.shop.example.test', 'theirs')]) {
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
    const own = domain('example.test', 'mine', { verified: false });
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

describe('decideVerification', () => {
  const mine = domain('shop.example.test', 'mine', { verified: false });

  it("wins over the other orgs' pending claims of the name and of names inside or above it, which it removes", () => {
    const theirs = { ...domain('shop.example.test', 'theirs', { verified: false }), id: 'id-theirs' };
    const inside = { ...domain('www.shop.example.test', 'other', { verified: false }), id: 'id-inside' };
    const above = domain('example.test', 'third', { verified: false });
    assert.deepEqual(decideVerification(mine, [mine, theirs, inside, above], ['mine']), { kind: 'verify', remove: [theirs, inside, above] });
  });

  it('is refused once another org verified the name (or one inside or above it) first, naming neither to who cannot see it', () => {
    const first = { ...domain('shop.example.test', 'theirs'), id: 'id-theirs' };
    const held = refusal(decideVerification(mine, [mine, first], ['mine']));
    assert.equal(held.code, 'domain-held');
    assert.doesNotMatch(held.message, /theirs|id-/);
    const above = refusal(decideVerification(mine, [mine, domain('example.test', 'theirs')], ['mine']));
    assert.match(above.message, /overlaps a domain of another org, inside or above it, held/);
  });

  it('is refused under a shared domain', () => {
    const r = refusal(decideVerification(domain('foo.apps.localhost', 'mine', { verified: false }), [domain('apps.localhost', null)], ['mine']));
    assert.match(r.message, /inside the shared domain apps.localhost/);
  });
});
