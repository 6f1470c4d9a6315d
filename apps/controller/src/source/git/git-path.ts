import { textProblem } from '@paas/contracts';

/**
 * The part of a smart-HTTP URL after `/git/<app>.git`, checked before anything reaches git: only
 * the paths git's HTTP protocol uses, each segment plain (no `.` or `..`, no NUL or control
 * character, no encoded `/` or `\`), so `git http-backend` never sees a path that leaves the
 * app's repository. Pure.
 */
export type GitPathCheck = { ok: true; path: string } | { ok: false; status: 400 | 404; message: string };

/** What git's smart and dumb HTTP clients ask for (git's http-backend.c service table). */
const GIT_PATHS = [
  /^\/HEAD$/,
  /^\/info\/refs$/,
  /^\/objects\/info\/(?:alternates|http-alternates|packs)$/,
  /^\/objects\/[0-9a-f]{2}\/[0-9a-f]{38,62}$/,
  /^\/objects\/pack\/pack-[0-9a-f]{40,64}\.(?:pack|idx)$/,
  /^\/git-(?:upload|receive)-pack$/,
];

const NOT_GIT = 'not a git URL: use http://<controller>/git/<app>.git (git itself adds /info/refs, /git-upload-pack, /git-receive-pack)';

export function checkGitPath(raw: string): GitPathCheck {
  const segments = raw.split('/').slice(1);
  const decoded: string[] = [];
  for (const segment of segments) {
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      return { ok: false, status: 400, message: `bad git path: "${segment}" is not valid percent-encoded UTF-8` };
    }
    if (text === '.' || text === '..') return { ok: false, status: 400, message: 'bad git path: "." and ".." segments are not allowed; use http://<controller>/git/<app>.git' };
    const rule = textProblem(text, true);
    if (rule) return { ok: false, status: 400, message: `bad git path: it ${rule}` };
    if (text.includes('/') || text.includes('\\')) return { ok: false, status: 400, message: 'bad git path: an encoded "/" or "\\" is not allowed in a segment' };
    decoded.push(text);
  }
  const path = `/${decoded.join('/')}`;
  if (!GIT_PATHS.some((p) => p.test(path))) return { ok: false, status: 404, message: NOT_GIT };
  return { ok: true, path };
}

/** `?service=` of a git request: absent, or one of git's two services. */
export function gitServiceProblem(service: unknown): string | undefined {
  if (service === undefined) return undefined;
  if (service === 'git-upload-pack' || service === 'git-receive-pack') return undefined;
  return 'bad git request: ?service= is git-upload-pack or git-receive-pack';
}
