import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelRequest, cancelRequester } from './deploy-cancels';

test('cancelRequester reads who asked, and tolerates a malformed value', () => {
  assert.equal(cancelRequester(cancelRequest('alice', new Date(0))), 'alice');
  assert.equal(cancelRequest('alice', new Date(0)), '{"by":"alice","at":"1970-01-01T00:00:00.000Z"}');
  assert.equal(cancelRequester('{}'), 'someone');
  assert.equal(cancelRequester('{"by":""}'), 'someone');
  assert.equal(cancelRequester('not json'), 'someone');
});
