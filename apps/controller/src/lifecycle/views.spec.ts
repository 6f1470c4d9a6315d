import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instanceListSchema, instanceViewSchema, type ActualInstance } from '@paas/contracts';
import { instanceListView, instanceView, instancesView } from './views';

const usage = { cpuPercent: 12.5, memoryBytes: 50_000_000, diskBytes: 4_096_000, measuredAt: '2030-01-01T00:00:05.000Z' };

const running: ActualInstance = {
  instanceId: 'i-0',
  appId: 'app-1',
  appName: 'shop',
  releaseId: 'rel-1',
  processType: 'web',
  index: 0,
  cellId: 'cell-1',
  state: 'RUNNING',
  address: '10.0.0.5:61001',
  since: '2030-01-01T00:00:00.000Z',
  crashCount: 0,
  memoryMb: 256,
  diskMb: 1024,
  usage,
};

describe('instance views', () => {
  it('carry the limits and the latest usage the cell reported, in the API names', () => {
    const view = instanceView(running, undefined, Date.parse('2030-01-01T00:01:00Z'));
    assert.equal(view.memory_limit_mb, 256);
    assert.equal(view.disk_limit_mb, 1024);
    assert.deepEqual(view.usage, { cpu_percent: 12.5, memory_bytes: 50_000_000, disk_bytes: 4_096_000, measured_at: '2030-01-01T00:00:05.000Z' });
    assert.equal(view.uptime_s, 60);
    assert.ok(instanceViewSchema.safeParse(view).success);
  });

  it('show no usage before the first sample, or once the instance crashed or stopped; unknown limits are null', () => {
    const { usage: _none, memoryMb: _m, diskMb: _d, ...bare } = running;
    const fresh = instanceView(bare);
    assert.equal(fresh.usage, null);
    assert.equal(fresh.memory_limit_mb, null);
    assert.equal(fresh.disk_limit_mb, null);
    assert.equal(instanceView({ ...running, state: 'CRASHED', reason: 'the app exited' }).usage, null);
    const down = instanceView({ ...running, state: 'STOPPED' });
    assert.equal(down.state, 'DOWN');
    assert.equal(down.usage, null);
    assert.deepEqual(instanceView({ ...running, state: 'STARTING' }).usage?.memory_bytes, 50_000_000);
  });

  it('give unplaced instances the limits of their process and no usage', () => {
    const views = instancesView(
      [running],
      { crashes: new Map(), unplaced: new Map([['web:1', 'every cell is full'], ['worker:0', 'every cell is full']]) },
      undefined,
      new Map([['web', { memoryMb: 256, diskMb: 1024 }]]),
    );
    assert.deepEqual(
      views.map((v) => [v.process_type, v.index, v.state, v.memory_limit_mb, v.disk_limit_mb, v.usage === null]),
      [
        ['web', 0, 'RUNNING', 256, 1024, false],
        ['web', 1, 'UNPLACED', 256, 1024, true],
        ['worker', 0, 'UNPLACED', null, null, true],
      ],
    );
    for (const v of views) assert.ok(instanceViewSchema.safeParse(v).success, JSON.stringify(v));
  });

  it('list the instances of a release being replaced as STOPPING with their release version, and do not count them as running', () => {
    const old = [0, 1, 2].map((index): ActualInstance => ({ ...running, instanceId: `old-${index}`, index, state: 'STOPPING', reason: 'replaced by v2', releaseId: 'rel-1' }));
    const fresh = [0, 1, 2].map((index): ActualInstance => ({ ...running, instanceId: `new-${index}`, index, releaseId: 'rel-2' }));
    const list = instanceListView([...old, ...fresh], { crashes: new Map([['web:0', { count: 1, reason: 'exited with status 3' }]]), unplaced: new Map() }, {
      limits: new Map([['web', { memoryMb: 256, diskMb: 1024, instances: 3 }]]),
      releaseVersions: new Map([['rel-1', 1], ['rel-2', 2]]),
    });
    assert.ok(instanceListSchema.safeParse(list).success);
    assert.deepEqual(list.summary, [{ process_type: 'web', desired: 3, running: 3, starting: 0, stopping: 3, crashed: 0, unplaced: 0 }]);
    const stopping = list.resources.filter((v) => v.state === 'STOPPING');
    assert.deepEqual(stopping.map((v) => [v.instance_id, v.release_version, v.stop_reason, v.uptime_s, v.usage]), [
      ['old-0', 1, 'replaced by v2', 0, null],
      ['old-1', 1, 'replaced by v2', 0, null],
      ['old-2', 1, 'replaced by v2', 0, null],
    ]);
    // Why it stops is no crash: the index's crash history stays what it was.
    assert.equal(stopping[0]!.last_crash_reason, 'exited with status 3');
    assert.equal(stopping[1]!.last_crash_reason, null);
    assert.deepEqual(list.resources.filter((v) => v.state === 'RUNNING').map((v) => [v.release_version, v.stop_reason]), [[2, null], [2, null], [2, null]]);
  });
});
