/**
 * Tars as an attacker packs them by hand, for tests: members no archiver would write (a hard link
 * through a symbolic link, a FIFO, a path with `..`). Not used by the platform itself.
 */

/** One ustar member, a 512-byte header and its body; `type` is the ustar type flag (0 file, 1 hard link, 2 symlink, 3 char device, 5 dir, 6 FIFO). */
export function ustarMember(name: string, type: string, body = '', linkname = ''): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => header.write(text.slice(0, length), offset, 'utf8');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(Buffer.byteLength(body).toString(8).padStart(11, '0') + '\0', 124, 12);
  put('00000000000\0', 136, 12);
  header.write('        ', 148, 8);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}

/** The members followed by the two zero blocks that end a tar. */
export function craftedTar(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}
