import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { parseEnv } from './env';

const schema = z.object({ PORT: z.coerce.number().int().positive(), NAME: z.string().min(1, { error: 'NAME must not be empty' }) });

test('parseEnv returns the typed values', () => {
  assert.deepEqual(parseEnv(schema, { PORT: '80', NAME: 'x' }, 'demo'), { PORT: 80, NAME: 'x' });
});

test('parseEnv names every bad variable and the component', () => {
  assert.throws(() => parseEnv(schema, { PORT: 'abc', NAME: '' }, 'demo'), (error: Error) => {
    assert.match(error.message, /^invalid demo configuration:/);
    assert.match(error.message, /PORT: /);
    assert.match(error.message, /NAME: NAME must not be empty/);
    return true;
  });
});
