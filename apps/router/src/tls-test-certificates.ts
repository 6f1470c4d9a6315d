/**
 * Test certificates made with `openssl` in a temp dir: a test CA and leaves it issues for given
 * names and validity dates (expired ones too, through `openssl ca`). Test-only.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificate {
  /** The leaf then the CA (PEM). */
  chainPem: string;
  keyPem: string;
  /** Epoch ms, from the certificate itself. */
  notAfter: number;
  serial: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** openssl's `ca` date form: YYYYMMDDHHMMSSZ. */
const caDate = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

/** A test CA in `dir` (EC P-256): `issue` makes leaves for names, valid from `from` to `to` (epoch ms). */
export class TestCa {
  readonly caPem: string;
  private next = 0;

  constructor(private readonly dir: string) {
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(
      join(dir, 'ca.cnf'),
      [
        '[ ca ]',
        'default_ca = test_ca',
        '[ test_ca ]',
        `dir = ${dir}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/newcerts',
        'serial = $dir/serial',
        'default_md = sha256',
        'policy = any_name',
        'unique_subject = no',
        'email_in_dn = no',
        '[ any_name ]',
        'commonName = supplied',
        '',
      ].join('\n'),
    );
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '3', '-subj', '/CN=Router Test CA'], dir);
    this.caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  }

  issue(names: readonly string[], from = Date.now() - 3_600_000, to = Date.now() + 86_400_000): TestCertificate {
    const n = this.next++;
    const ext = join(this.dir, `leaf-${n}.ext`);
    writeFileSync(ext, `subjectAltName = ${names.map((name) => `DNS:${name}`).join(', ')}\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `leaf-${n}.key`, '-out', `leaf-${n}.csr`, '-subj', `/CN=${names[0]}`], this.dir);
    openssl(
      ['ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca-key.pem', '-in', `leaf-${n}.csr`, '-out', `leaf-${n}.pem`, '-notext', '-startdate', caDate(from), '-enddate', caDate(to), '-extfile', ext],
      this.dir,
    );
    const leafPem = readFileSync(join(this.dir, `leaf-${n}.pem`), 'utf8');
    const x509 = new X509Certificate(leafPem);
    return { chainPem: `${leafPem.trim()}\n${this.caPem.trim()}\n`, keyPem: readFileSync(join(this.dir, `leaf-${n}.key`), 'utf8'), notAfter: Date.parse(x509.validTo), serial: x509.serialNumber };
  }
}
