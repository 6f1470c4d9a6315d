import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRules } from './security-groups';

test('a rules file is a JSON list, or a group as `security-group --json` prints it', () => {
  const rules = [{ protocol: 'tcp', destination: '10.0.0.5', ports: '5432' }];
  assert.deepEqual(parseRules(JSON.stringify(rules), 'rules.json'), rules);
  assert.deepEqual(parseRules(JSON.stringify({ name: 'db', rules }), 'rules.json'), rules);
});

test('a bad rules file names the file, the rule and the field', () => {
  assert.throws(() => parseRules('[{"protocol":"tcp",', 'rules.json'), /rules.json is not JSON/);
  assert.throws(() => parseRules('[{"protocol":"tcp","destination":"db.local"}]', 'rules.json'), /rules.json: rules\[0\]\.destination: destination "db.local" is not an IPv4 address/);
  assert.throws(
    () => parseRules('[{"protocol":"all","destination":"10.0.0.1"},{"protocol":"udp","destination":"10.0.0.1","ports":"0"}]', 'r.json'),
    /r.json: rules\[1\]\.ports: .*"0" is not a port/,
  );
  assert.throws(() => parseRules('{"protocol":"tcp"}', 'r.json'), /r.json: rules: rules must be a list/);
});
