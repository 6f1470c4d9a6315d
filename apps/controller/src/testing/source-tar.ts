/** One member of a tar made by `tarOf`. */
export interface TarMember {
  path: string;
  content: string;
}

/**
 * A plain (ustar) tar of regular files, as `git archive` makes a pushed source: 0644, owned by
 * 0:0, mtime 0. For tests that push a source the real cell unpacks.
 */
export function tarOf(members: readonly TarMember[]): Buffer {
  const blocks: Buffer[] = [];
  for (const member of members) {
    const data = Buffer.from(member.content, 'utf8');
    const header = Buffer.alloc(512);
    header.write(member.path, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'ascii'); // mode
    header.write('0000000\0', 108, 'ascii'); // uid
    header.write('0000000\0', 116, 'ascii'); // gid
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii'); // size
    header.write('00000000000\0', 136, 'ascii'); // mtime
    header.write('        ', 148, 'ascii'); // checksum, counted as spaces
    header.write('0', 156, 'ascii'); // regular file
    header.write('ustar\u000000', 257, 'ascii');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** The source a test pushes when it names none: a Node.js app the fake buildpack stages. */
export const MINIMAL_SOURCE: readonly TarMember[] = [
  { path: 'package.json', content: '{"name":"test-app","version":"1.0.0"}\n' },
  { path: 'server.js', content: "require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);\n" },
];
