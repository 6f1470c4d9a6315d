import { MINIMAL_SOURCE, tarOf } from './source-tar';

/** Pushes a commit through the same internal endpoint the git hook uses; returns the streamed log. */
export async function pushThroughHook(
  url: string,
  internalToken: string,
  app: string,
  actor: { userId: string; name: string; isAdmin: boolean },
  /** The pushed source, a tar like `git archive` makes; default: MINIMAL_SOURCE (a real cell can stage it). */
  source?: Uint8Array | string,
) {
  const body = source ?? (await tarOf(MINIMAL_SOURCE));
  const res = await fetch(`${url}/internal/v1/apps/${app}/builds?commit=0123456789abcdef`, {
    method: 'POST',
    headers: {
      'x-paas-internal-token': internalToken,
      'content-type': 'application/x-tar',
      'x-paas-actor': Buffer.from(JSON.stringify(actor)).toString('base64'),
    },
    body,
  });
  const text = await res.text();
  return { ok: text.trim().endsWith('PAAS-RESULT ok'), text };
}
