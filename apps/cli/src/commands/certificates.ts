import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CertificateView } from '@paas/contracts';
import { CliError, Context, UsageError } from '../context';
import type { Cell } from '../ui/table';
import { localTime } from '../ui/format';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const POLL_MS = 500;

/** A certificate file's text, or a CliError naming the file and why it cannot be read. */
async function readPem(flag: string, file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    throw new CliError(`cannot read ${flag} ${file} (${why}): give the file of the ${what}`);
  }
}

/** "2026-03-01 12:00:00 (in 89d)" or "expired". Pure but for `now`. */
export function expiry(cert: Pick<CertificateView, 'not_after'>, now = Date.now()): string {
  if (!cert.not_after) return '-';
  const days = (Date.parse(cert.not_after) - now) / 86_400_000;
  const left = days < 0 ? 'expired' : days < 1 ? `in ${Math.max(0, Math.round(days * 24))}h` : `in ${Math.floor(days)}d`;
  return `${localTime(cert.not_after)} (${left})`;
}

function stateCell(ctx: Context, state: CertificateView['state']): Cell {
  const style = state === 'issued' ? ctx.color.green : state === 'pending' ? ctx.color.yellow : ctx.color.red;
  return { text: state, style };
}

/** The wait of `enable-ssl --wait`: polls until issued (the certificate) or failed/expired (a CliError with its last error), or the deadline. */
async function waitForIssued(ctx: Context, cert: CertificateView, timeoutMs: number): Promise<CertificateView> {
  const api = await ctx.api();
  const label = cert.names.join(', ');
  const spinner = ctx.spinner(`${label}: ordering a certificate`);
  const deadline = Date.now() + timeoutMs;
  try {
    for (let current = cert; ; current = await api.certificate(cert.id)) {
      if (current.state === 'issued') return current;
      if (current.state === 'failed' || current.state === 'expired') {
        const retry = current.next_attempt_at ? ` (the platform tries again at ${localTime(current.next_attempt_at)}; paas certs shows it)` : '';
        throw new CliError(`certificate ${current.id} for ${label} ${current.state}: ${current.last_error ?? 'no reason given'}${retry}`);
      }
      if (Date.now() > deadline) throw new CliError(`certificate ${current.id} for ${label} still ${current.state} after ${Math.round(timeoutMs / 1000)} s: follow it with paas certs`);
      spinner.update(`${label}: ${current.state}${current.attempts > 0 ? ` (attempt ${current.attempts})` : ''}`);
      await sleep(POLL_MS);
    }
  } finally {
    spinner.stop();
  }
}

export function registerCertificates(program: Command, ctx: Context): void {
  program
    .command('certs')
    .description('list the certificates you may see: their names, source, state, issuer, expiry and last error (never their keys)')
    .option('--json', 'the certificates as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const api = await ctx.api();
      const certs = await api.certificates();
      if (o.json) return ctx.json(certs);
      if (certs.length === 0) return ctx.print('no certificates: paas enable-ssl HOST orders one, paas upload-cert --cert FILE --key FILE adds yours');
      ctx.table(
        [
          { header: 'id', shrink: 0 },
          { header: 'names', shrink: 1 },
          { header: 'source', shrink: 0 },
          { header: 'state', shrink: 0 },
          { header: 'issuer', shrink: 2 },
          { header: 'expires', shrink: 1 },
          { header: 'last error', shrink: 3 },
        ],
        certs.map((c) => [c.id, c.names.join(', '), c.source, stateCell(ctx, c.state), c.issuer ?? '-', expiry(c), c.last_error ?? '']),
      );
    });

  program
    .command('upload-cert')
    .description('add a certificate of your own: its PEM chain (leaf first) and private key; the key is sealed and never shown again')
    .requiredOption('--cert <file>', 'the PEM certificate, then its intermediates')
    .requiredOption('--key <file>', 'the PEM private key of the certificate')
    .option('--json', 'the certificate as JSON (without its key)')
    .action(async (o: { cert: string; key: string; json?: boolean }) => {
      const chain = await readPem('--cert', o.cert, 'certificate chain (PEM)');
      const key = await readPem('--key', o.key, 'private key (PEM)');
      if (!chain.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`--cert ${o.cert} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"): give the certificate chain, not the key`);
      if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new CliError(`--key ${o.key} holds no PEM private key ("-----BEGIN PRIVATE KEY-----"): give the key file`);
      const api = await ctx.api();
      const cert = await api.uploadCertificate(chain, key);
      if (o.json) return ctx.json(cert);
      ctx.print(`uploaded certificate ${cert.id} for ${cert.names.join(', ')}: ${cert.state}, expires ${expiry(cert)}`);
    });

  program
    .command('enable-ssl <hosts...>')
    .description('order a certificate for HOST (its full name) from the platform\'s ACME CA; the platform renews it')
    .option('--wait', 'wait until it is issued (exit 0) or failed (exit 1 with the reason)')
    .option('--timeout <seconds>', 'how long --wait waits', '300')
    .option('--json', 'the certificate as JSON (after the wait, with --wait)')
    .action(async (hosts: string[], o: { wait?: boolean; timeout: string; json?: boolean }) => {
      const timeout = Number(o.timeout);
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError(`--timeout must be a number of seconds above 0 (got "${o.timeout}")`);
      const api = await ctx.api();
      let cert = await api.requestCertificate(hosts.map((h) => h.toLowerCase()));
      if (o.wait) cert = await waitForIssued(ctx, cert, timeout * 1000);
      if (o.json) return ctx.json(cert);
      if (cert.state === 'issued') ctx.print(`certificate ${cert.id} for ${cert.names.join(', ')} issued by ${cert.issuer ?? 'the CA'}, expires ${expiry(cert)}`);
      else ctx.print(`ordered certificate ${cert.id} for ${cert.names.join(', ')}: ${cert.state}; paas certs shows when it is issued (or --wait)`);
    });

  program
    .command('delete-cert <id>')
    .description('delete a certificate: the routers stop serving it at once')
    .action(async (id: string) => {
      const api = await ctx.api();
      await api.deleteCertificate(id);
      ctx.print(`deleted certificate ${id}`);
    });
}
