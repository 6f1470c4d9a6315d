import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressBar, Spinner, progressLine } from './progress';

const sink = (isTTY: boolean) => {
  const written: string[] = [];
  return { isTTY, columns: 80, written, write: (t: string) => written.push(t) > 0 };
};

test('the progress line shows the share done as a bar, a percentage and sizes', () => {
  assert.equal(progressLine('up', 512 * 1024, 1024 * 1024, 10), 'up [#####-----]  50%  512K/1.0M');
  assert.equal(progressLine('up', 0, 0, 4), 'up [####] 100%  0B/0B');
});

test('off a terminal, spinners draw nothing and a progress bar says one line', () => {
  const out = sink(false);
  const spinner = new Spinner(out, 'working');
  spinner.update('still working');
  spinner.stop();
  const bar = new ProgressBar(out, 'uploading', 2048);
  bar.update(1024);
  bar.finish();
  assert.deepEqual(out.written, ['uploading: 2.0K\n']);
});

test('on a terminal, the bar redraws in place and ends with a newline', () => {
  const out = sink(true);
  const bar = new ProgressBar(out, 'uploading', 100);
  bar.update(100);
  bar.finish();
  assert.ok(out.written.every((w) => w.startsWith('\r\x1b[2K') || w === '\n'));
  assert.match(out.written.at(-2) ?? '', /100%/);
  assert.equal(out.written.at(-1), '\n');
});
