import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseCertificate } from './certificate-table';
import { httpsRedirectUrl } from './https-answers';
import { ticketKeysFor } from './tls-listener';
import { isAnsweredWellKnownPath, WellKnownAnswers } from './well-known-answers';

const NOW = 1_800_000_000_000;
const cert = (id: string, names: string[], notAfter: number) => ({ id, names, notAfter });
const index = (...certs: Array<ReturnType<typeof cert>>) => {
  const byName = new Map<string, Array<ReturnType<typeof cert>>>();
  for (const c of certs) for (const n of c.names) byName.set(n, [...(byName.get(n) ?? []), c]);
  return byName;
};

describe('chooseCertificate', () => {
  const exact = cert('exact', ['shop.example.com'], NOW + 1_000);
  const wild = cert('wild', ['*.example.com'], NOW + 5_000);
  const table = index(exact, wild);

  it('prefers the exact name over a wildcard, whatever expires later', () => {
    assert.equal(chooseCertificate(table, 'shop.example.com', NOW)?.id, 'exact');
    assert.equal(chooseCertificate(table, 'SHOP.Example.com.', NOW)?.id, 'exact', 'case and a trailing dot do not matter');
  });

  it('covers one label with a wildcard, not two, nor the bare domain', () => {
    assert.equal(chooseCertificate(table, 'blog.example.com', NOW)?.id, 'wild');
    assert.equal(chooseCertificate(table, 'a.blog.example.com', NOW), undefined);
    assert.equal(chooseCertificate(table, 'example.com', NOW), undefined);
    assert.equal(chooseCertificate(table, 'com', NOW), undefined);
  });

  it('of several, serves the one that expires last; an expired one never, falling back to the wildcard', () => {
    const later = cert('later', ['shop.example.com'], NOW + 9_000);
    assert.equal(chooseCertificate(index(exact, later, wild), 'shop.example.com', NOW)?.id, 'later');
    assert.equal(chooseCertificate(table, 'shop.example.com', NOW + 1_000)?.id, 'wild', 'the exact one expired at NOW + 1000');
    assert.equal(chooseCertificate(table, 'shop.example.com', NOW + 5_000), undefined);
  });
});

describe('well-known answers', () => {
  it('answers only ACME and domain-verification paths, exactly, until they expire', () => {
    let now = NOW;
    const answers = new WellKnownAnswers(() => now);
    answers.replaceAll(new Map([['shop.example.com /.well-known/acme-challenge/t1', { body: 't1.k', expiresAt: NOW + 10 }]]));
    assert.equal(answers.answer('shop.example.com', '/.well-known/acme-challenge/t1'), 't1.k');
    assert.equal(answers.answer('shop.example.com', '/.well-known/acme-challenge/t1/'), undefined);
    assert.equal(answers.answer('other.example.com', '/.well-known/acme-challenge/t1'), undefined);
    now = NOW + 10;
    assert.equal(answers.answer('shop.example.com', '/.well-known/acme-challenge/t1'), undefined, 'expired');
    assert.equal(isAnsweredWellKnownPath('/.well-known/paas-domain-verification/abc'), true);
    assert.equal(isAnsweredWellKnownPath('/.well-known/acme-challenge/'), false, 'a prefix alone names no answer');
    assert.equal(isAnsweredWellKnownPath('/.well-known/security.txt'), false);
  });
});

describe('https redirects and ticket keys', () => {
  it('redirects to the same target on https, leaving out port 443', () => {
    assert.equal(httpsRedirectUrl('shop.example.com', '/a?b=1', 443), 'https://shop.example.com/a?b=1');
    assert.equal(httpsRedirectUrl('shop.example.com', '/a?b=1', 8443), 'https://shop.example.com:8443/a?b=1');
    assert.equal(httpsRedirectUrl('shop.example.com', '*', 443), 'https://shop.example.com/');
  });

  it('derives the same 48-byte ticket key from the same secret and period, another one per period', () => {
    const secret = Buffer.alloc(32, 7);
    assert.equal(ticketKeysFor(secret, 5).length, 48);
    assert.deepEqual(ticketKeysFor(secret, 5), ticketKeysFor(Buffer.alloc(32, 7), 5));
    assert.notDeepEqual(ticketKeysFor(secret, 5), ticketKeysFor(secret, 6));
    assert.notDeepEqual(ticketKeysFor(secret, 5), ticketKeysFor(Buffer.alloc(32, 8), 5));
  });
});
