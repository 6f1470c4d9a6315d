import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paginated, parsePage } from './pagination';
import { DomainException } from './domain.exception';

test('parsePage defaults to page 1 of 50 and computes skip/take', () => {
  assert.deepEqual(parsePage({}), { page: 1, perPage: 50, skip: 0, take: 50 });
  assert.deepEqual(parsePage({ page: '3', per_page: '10' }), { page: 3, perPage: 10, skip: 20, take: 10 });
});

test('parsePage refuses a bad page or per_page with the parameter named', () => {
  for (const query of [{ page: '0' }, { page: 'x' }, { per_page: '500' }, { per_page: '0' }]) {
    assert.throws(() => parsePage(query), (e: DomainException) => e.code === 'validation-failed' && /page/.test(e.message));
  }
});

test('paginated links keep filters and stop at the ends', () => {
  const page = parsePage({ page: '2', per_page: '2' });
  const result = paginated(['c', 'd'], 5, page, '/v1/apps', { names: 'x', page: '2' });
  assert.equal(result.pagination.total_pages, 3);
  assert.equal(result.pagination.next?.href, '/v1/apps?names=x&page=3&per_page=2');
  assert.equal(result.pagination.previous?.href, '/v1/apps?names=x&page=1&per_page=2');
  const last = paginated([], 5, parsePage({ page: '3', per_page: '2' }), '/v1/apps', {});
  assert.equal(last.pagination.next, null);
});
