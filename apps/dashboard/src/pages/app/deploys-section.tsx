import { useEffect, useRef, useState } from 'react';
import type { AppView, BuildLogView } from '@paas/contracts';
import { Ago, PollError, Section, StateBadge, useNow } from '../../components/ui';
import { useSession } from '../../session';
import { usePoll } from '../../use-poll';

/** Deployments (which release, how it ended) and builds (each push) with their logs, newest first. */
export function DeploysSection({ app }: { app: AppView }) {
  const { api } = useSession();
  const now = useNow(5_000);
  const history = usePoll(`deploys:${app.id}`, async () => {
    const [deployments, builds, releases] = await Promise.all([api.deployments(app.id, 10), api.builds(app.id, 10), api.releases(app.id)]);
    return { deployments, builds, versions: new Map(releases.map((r) => [r.id, r.version])) };
  });
  const [open, setOpen] = useState<string | null>(null);
  const data = history.data;

  return (
    <Section title="Deploy history" id="deploys">
      <PollError error={history.error} what="the deploy history" />
      {!data ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <h3>Deployments</h3>
          {data.deployments.length === 0 ? (
            <p className="empty">None yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Release</th>
                    <th scope="col">State</th>
                    <th scope="col">Started</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {data.deployments.map((d) => (
                    <tr key={d.id}>
                      <td>{data.versions.has(d.release_id) ? `v${data.versions.get(d.release_id)}` : '—'}</td>
                      <td>
                        <StateBadge state={d.state} />
                      </td>
                      <td>
                        <Ago iso={d.created_at} now={now} />
                      </td>
                      <td className="reason">{d.reason ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h3>Builds</h3>
          {data.builds.length === 0 ? (
            <p className="empty">No push yet.</p>
          ) : (
            <ul className="build-list">
              {data.builds.map((b) => (
                <li key={b.id}>
                  <div className="build-line">
                    <StateBadge state={b.state} /> <code>{b.commit_sha.slice(0, 8)}</code> {b.buildpack ? <span className="muted">{b.buildpack}</span> : null}{' '}
                    <Ago iso={b.created_at} now={now} />
                    <button type="button" className="small-button" aria-expanded={open === b.id} onClick={() => setOpen(open === b.id ? null : b.id)}>
                      {open === b.id ? 'Hide log' : 'Show log'}
                    </button>
                  </div>
                  {b.error ? <div className="bad-text small">{b.error}</div> : null}
                  {open === b.id ? <BuildLog app={app.id} buildId={b.id} /> : null}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Section>
  );
}

/** A build's log; while its push runs, follows it (asks for the lines after the last one every second). */
function BuildLog({ app, buildId }: { app: string; buildId: string }) {
  const { api } = useSession();
  const [log, setLog] = useState<{ lines: BuildLogView['lines']; complete: boolean; dropped: number; error?: string }>({ lines: [], complete: false, dropped: 0 });
  const pre = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let stopped = false;
    let since = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const page = await api.buildLog(app, buildId, since);
        if (stopped) return;
        since = page.last_seq;
        setLog((l) => ({ lines: [...l.lines, ...page.lines], complete: page.complete, dropped: page.dropped_lines }));
        if (!page.complete) timer = setTimeout(() => void load(), 1_000);
      } catch (error) {
        if (stopped) return;
        setLog((l) => ({ ...l, error: (error as Error).message }));
        timer = setTimeout(() => void load(), 5_000);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [api, app, buildId]);

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [log.lines.length]);

  return (
    <div className="build-log">
      {log.error ? (
        <p className="status status-error" role="alert">
          {log.error}
        </p>
      ) : null}
      <pre ref={pre} tabIndex={0} aria-label="Build log">
        {log.dropped > 0 ? `[${log.dropped} earlier lines dropped]\n` : ''}
        {log.lines.map((l) => l.text).join('\n')}
        {log.complete ? '' : '\n…'}
      </pre>
    </div>
  );
}
