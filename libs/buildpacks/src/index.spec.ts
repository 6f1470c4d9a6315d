import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcfile, parseReleaseOutput, processTypesOf, webStartCommand } from './index';

test('parseProcfile reads process types and skips comments and blank lines', () => {
  assert.deepEqual(parseProcfile('# hi\nweb: node server.js --port $PORT\n\nworker:node worker.js\n'), {
    web: 'node server.js --port $PORT',
    worker: 'node worker.js',
  });
});

test('parseReleaseOutput reads default_process_types', () => {
  assert.deepEqual(parseReleaseOutput('---\ndefault_process_types:\n  web: npm start\n'), { web: 'npm start' });
  assert.deepEqual(parseReleaseOutput('---\ndefault_process_types: {}\n'), {});
});

test('the Procfile web command wins over the buildpack default', () => {
  const release = '---\ndefault_process_types:\n  web: npm start\n';
  assert.equal(webStartCommand('web: node other.js', release), 'node other.js');
  assert.equal(webStartCommand(undefined, release), 'npm start');
  assert.equal(webStartCommand('worker: x', '---\ndefault_process_types: {}\n'), undefined);
});

test('process types: the Procfile adds types and overrides the buildpack default', () => {
  const release = '---\ndefault_process_types:\n  web: npm start\n';
  assert.deepEqual(processTypesOf('worker: node worker.js\n', release), { web: 'npm start', worker: 'node worker.js' });
  assert.deepEqual(processTypesOf('web: node a.js\nclock: node c.js', release), { web: 'node a.js', clock: 'node c.js' });
  assert.deepEqual(processTypesOf(undefined, release), { web: 'npm start' });
});
