import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { appAccessLine } from './access-log';
import type { RequestContext } from './request-context';

const req = (headers: Record<string, string>, url = '/x?token=secret') =>
  ({ method: 'POST', url, httpVersion: '1.1', headers, socket: { remoteAddress: '10.0.0.9' } }) as unknown as IncomingMessage;
const ctx = (extra: Partial<RequestContext> = {}): RequestContext => ({
  requestId: 'req-1',
  receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
  startedAt: 1000,
  attempts: 1,
  bytes: 42,
  host: 'shop.apps.test',
  ...extra,
});

describe('appAccessLine', () => {
  it('is a gorouter-style line for the app the request reached', () => {
    const line = appAccessLine(
      req({ 'user-agent': 'curl/8 "quoted"', 'content-length': '7', 'x-forwarded-proto': 'http' }),
      201,
      ctx({ appId: 'app-1', instanceIndex: 2, processType: 'web', backend: '10.1.1.1:61000' }),
      false,
      1250,
    );
    assert.deepEqual(line, {
      appId: 'app-1',
      text:
        'shop.apps.test - [2024-01-02T03:04:05.006Z] "POST /x HTTP/1.1" 201 7 42 "-" "curl/8 \\"quoted\\"" "10.0.0.9" "10.1.1.1:61000" ' +
        'x_forwarded_for:"-" x_forwarded_proto:"http" vcap_request_id:"req-1" response_time:0.250000 app_id:"app-1" app_index:"2"',
    });
  });

  it('names a router error, another process type and a client that went away', () => {
    const line = appAccessLine(req({}), 502, ctx({ appId: 'a', processType: 'worker', routerError: 'backend-unreachable' as RequestContext['routerError'] }), true, 1000);
    assert.match(line!.text, / process_type:"worker" x_cf_routererror:"backend-unreachable" client_aborted:true$/);
  });

  it('is undefined for a request that reached no app', () => {
    assert.equal(appAccessLine(req({}), 404, ctx(), false), undefined);
  });
});
