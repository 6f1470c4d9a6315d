import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGitPath, gitServiceProblem } from './git-path';

test("git's own paths pass, decoded", () => {
  for (const p of ['/info/refs', '/HEAD', '/git-upload-pack', '/git-receive-pack', '/objects/info/packs', `/objects/ab/${'c'.repeat(38)}`, `/objects/pack/pack-${'0'.repeat(40)}.idx`]) {
    assert.deepEqual(checkGitPath(p), { ok: true, path: p });
  }
});

test('"." and "..", raw or percent-encoded in any case, are a 400 that never reaches git', () => {
  for (const p of ['/../x.git/info/refs', '/../../etc/passwd', '/objects/../../../../etc/passwd', '/%2e%2e/info/refs', '/%2E%2E/config', '/info/./refs', '/.%2e/HEAD']) {
    const r = checkGitPath(p);
    assert.equal(r.ok, false, p);
    assert.equal(!r.ok && r.status, 400, p);
    assert.match(!r.ok ? r.message : '', /"\." and "\.\." segments are not allowed/);
  }
});

test('NUL, control characters, bad percent-encoding and encoded slashes are a 400', () => {
  assert.match((checkGitPath('/info/refs%00') as { message: string }).message, /NUL/);
  assert.match((checkGitPath('/info/re%0afs') as { message: string }).message, /control characters/);
  assert.match((checkGitPath('/info/%ff') as { message: string }).message, /not valid percent-encoded UTF-8/);
  assert.match((checkGitPath('/info%2frefs') as { message: string }).message, /encoded "\/"/);
  assert.match((checkGitPath('/info%5crefs') as { message: string }).message, /encoded "\/" or "\\"/);
});

test('anything else under the repository is a 404 naming the git URL', () => {
  for (const p of ['/config', '/hooks/pre-receive', '/objects/zz/x', '/info/refs/x', '/', '//info/refs']) {
    const r = checkGitPath(p);
    assert.ok(!r.ok && r.status === 404, p);
    assert.match(!r.ok ? r.message : '', /not a git URL/);
  }
});

test('?service= is absent or one of the two git services', () => {
  assert.equal(gitServiceProblem(undefined), undefined);
  assert.equal(gitServiceProblem('git-upload-pack'), undefined);
  assert.equal(gitServiceProblem('git-receive-pack'), undefined);
  for (const s of ['\u0000', 'git-upload-pack\u0000', '', 'x', ['git-upload-pack', 'git-receive-pack']]) assert.ok(gitServiceProblem(s), JSON.stringify(s));
});
