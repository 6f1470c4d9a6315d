import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ID_MAPPING, hostIdOf, hostVcapUser, validateIdMapping } from './id-mapping';
import { RuntimeError } from './runtime-error';

describe('id mapping', () => {
  it("puts the container's vcap user (2000) at hostId + 2000, never at a host id below the range", () => {
    assert.deepEqual(hostVcapUser({ hostId: 1_000_000, size: 65_536 }), { uid: 1_002_000, gid: 1_002_000 });
    assert.equal(hostIdOf(DEFAULT_ID_MAPPING, 0), 1_000_000);
    assert.throws(() => hostIdOf(DEFAULT_ID_MAPPING, 65_536), /outside the container's mapped ids/);
    assert.throws(() => hostIdOf(DEFAULT_ID_MAPPING, -1), RuntimeError);
  });

  it('refuses ranges that overlap host users, hold no nobody, or pass the largest id', () => {
    validateIdMapping(DEFAULT_ID_MAPPING);
    assert.throws(() => validateIdMapping({ hostId: 0, size: 65_536 }), /at least 100000/);
    assert.throws(() => validateIdMapping({ hostId: 2000, size: 65_536 }), /at least 100000/);
    assert.throws(() => validateIdMapping({ hostId: 1_000_000, size: 3000 }), /at least 65535/);
    assert.throws(() => validateIdMapping({ hostId: 0xffff_0000, size: 65_536 }), /past the largest id/);
  });
});
