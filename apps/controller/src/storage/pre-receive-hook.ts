/**
 * The pre-receive hook of every app repository. git runs it with the pushed objects in
 * quarantine, so this hook itself archives the pushed commit and streams it to the controller,
 * then echoes the build output (git shows it as `remote:` lines). A non-zero exit rejects the push.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';

export const RESULT_PREFIX = 'PAAS-RESULT ';
const ZERO = /^0+$/;

async function readUpdates(): Promise<Array<{ oldSha: string; newSha: string; ref: string }>> {
  const updates: Array<{ oldSha: string; newSha: string; ref: string }> = [];
  for await (const line of createInterface({ input: process.stdin })) {
    const [oldSha, newSha, ref] = line.trim().split(/\s+/);
    if (ref) updates.push({ oldSha, newSha, ref });
  }
  return updates;
}

async function main(): Promise<number> {
  const app = process.env.PAAS_APP_NAME ?? '';
  const controller = process.env.PAAS_CONTROLLER_URL ?? '';
  const token = process.env.PAAS_INTERNAL_TOKEN ?? '';
  const updates = await readUpdates();
  const deploy = updates.find((u) => u.ref === 'refs/heads/main' || u.ref === 'refs/heads/master');
  const others = updates.filter((u) => u !== deploy);
  if (others.length > 0 || !deploy) {
    console.log(`only the main (or master) branch deploys: push with "git push <remote> main" (got ${updates.map((u) => u.ref).join(', ')})`);
    return 1;
  }
  if (ZERO.test(deploy.newSha)) {
    console.log('deleting the deployed branch is not allowed: delete the app instead');
    return 1;
  }
  const archive = spawn('git', ['archive', '--format=tar', deploy.newSha], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new URL(`/internal/v1/apps/${encodeURIComponent(app)}/builds?commit=${deploy.newSha}`, controller);
  return new Promise<number>((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-tar', 'x-paas-internal-token': token, 'x-paas-actor': process.env.PAAS_ACTOR ?? '' },
      },
      (res) => {
        let ok = false;
        let sawResult = false;
        const lines = createInterface({ input: res });
        lines.on('line', (line) => {
          if (line.startsWith(RESULT_PREFIX)) {
            sawResult = true;
            ok = line.slice(RESULT_PREFIX.length).trim() === 'ok';
          } else {
            console.log(line);
          }
        });
        let done = false;
        const end = () => {
          if (done) return;
          done = true;
          if (!sawResult && res.statusCode === 200) {
            // The stream broke off: the controller running the build stopped (a replica's sweeper
            // ends the build FAILED once its lease expires).
            console.log(
              `!     the controller running this build stopped before the build ended (its connection closed): ` +
                `see GET /v1/apps/${app}/builds and /v1/apps/${app}/deployments, then push again`,
            );
          } else if (!sawResult) console.log(`the controller answered ${res.statusCode} without a build result: see its log`);
          resolve(ok && res.statusCode === 200 ? 0 : 1);
        };
        lines.on('close', end);
        // A connection reset mid-stream ends the response with an error (readline passes it on),
        // not with its end: unhandled, it would crash the hook with a stack trace.
        lines.on('error', end);
        res.on('close', () => lines.close());
      },
    );
    req.on('error', (error) => {
      console.log(`cannot reach the controller at ${controller}: ${error.message}`);
      resolve(1);
    });
    archive.stdout.pipe(req);
  });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: Error) => {
      console.log(`pre-receive hook failed: ${error.message}`);
      process.exit(1);
    },
  );
}
