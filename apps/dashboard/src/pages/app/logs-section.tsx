import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { ApiError, type LogEntry } from '@paas/api-client';
import type { AppView } from '@paas/contracts';
import { Section } from '../../components/ui';
import { useSession } from '../../session';
import { nextDelay } from '../../use-poll';

/** Lines kept in the browser; older ones fall off the top. */
const MAX_LINES = 1_000;
/** Lines asked for when the stream first opens. */
const RECENT = 200;

type Status = { kind: 'connecting' } | { kind: 'live' } | { kind: 'retrying'; why: string; inS: number } | { kind: 'failed'; why: string };

/** The family of a Cloud Foundry source tag: `APP/PROC/WEB/0` -> `APP`. */
export function sourceFamily(source: string): string {
  return source.split('/')[0] || source;
}

/** Whether an entry passes the source filter ('' all; `APP` a family; `APP/PROC/WEB/0` one source). */
export function matchesSource(entry: LogEntry, filter: string): boolean {
  return !filter || entry.source === filter || entry.source.startsWith(`${filter}/`);
}

/**
 * The app's live log: the last 200 lines, then every new one as the server sends it (server-sent
 * events read with fetch, so the token goes in the Authorization header). A dropped stream resumes
 * after the last line seen, with backoff. Pause freezes the view (lines keep arriving and are
 * counted); the source filter and the text filter apply to what is shown.
 */
export function LogsSection({ app }: { app: AppView }) {
  const { api } = useSession();
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [status, setStatus] = useState<Status>({ kind: 'connecting' });
  const [paused, setPaused] = useState(false);
  const [frozen, setFrozen] = useState<LogEntry[] | null>(null);
  const [source, setSource] = useState('');
  const [text, setText] = useState('');
  const [retryToken, setRetryToken] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const abort = new AbortController();
    let lastId: string | undefined;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const follow = async () => {
      if (abort.signal.aborted) return;
      setStatus({ kind: 'connecting' });
      let why = 'the stream ended';
      try {
        const stream = api.streamLogs(app.id, lastId !== undefined ? { since: lastId, signal: abort.signal } : { recent: RECENT, signal: abort.signal });
        let opened = false;
        // The first entry (or the end of the stream) tells the stream opened; an empty log stays "connecting" until then.
        const openTimer = setTimeout(() => {
          if (!opened && !abort.signal.aborted) setStatus({ kind: 'live' });
        }, 1_500);
        try {
          for await (const entry of stream) {
            if (!opened) {
              opened = true;
              setStatus({ kind: 'live' });
            }
            failures = 0;
            lastId = entry.id;
            setEntries((list) => {
              const next = list.length >= MAX_LINES ? list.slice(list.length - MAX_LINES + 1) : list.slice();
              next.push(entry);
              return next;
            });
          }
        } finally {
          clearTimeout(openTimer);
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        const e = error as Error;
        // A refusal (no such app, no role, no log endpoint) is not retried in a tight loop.
        if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
          setStatus({ kind: 'failed', why: `${e.code}: ${e.message}` });
          return;
        }
        why = e.message;
      }
      if (abort.signal.aborted) return;
      failures += 1;
      const delay = nextDelay(1_000, failures - 1);
      setStatus({ kind: 'retrying', why, inS: Math.round(delay / 1000) });
      timer = setTimeout(() => void follow(), delay);
    };
    setEntries([]);
    void follow();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [api, app.id, retryToken]);

  const shownAll = paused && frozen ? frozen : entries;
  const newWhilePaused = paused && frozen ? Math.max(0, entries.length - frozen.length) : 0;
  const families = useMemo(() => [...new Set(entries.map((e) => sourceFamily(e.source)))].sort(), [entries]);
  const sources = useMemo(() => [...new Set(entries.map((e) => e.source))].sort(), [entries]);
  const needle = text.trim().toLowerCase();
  const shown = shownAll.filter((e) => matchesSource(e, source) && (!needle || e.text.toLowerCase().includes(needle)));

  // Follow the bottom unless the person scrolled up to read.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && stick.current && !paused) el.scrollTop = el.scrollHeight;
  }, [shown.length, paused]);

  const togglePause = () => {
    if (paused) {
      setPaused(false);
      setFrozen(null);
      stick.current = true;
    } else {
      setFrozen(entries);
      setPaused(true);
    }
  };

  const statusText =
    status.kind === 'live'
      ? paused
        ? `Paused${newWhilePaused ? `: ${newWhilePaused} new line${newWhilePaused > 1 ? 's' : ''}` : ''}`
        : 'Live'
      : status.kind === 'connecting'
        ? 'Connecting…'
        : status.kind === 'retrying'
          ? `Reconnecting in ${status.inS}s (${status.why})`
          : `Not streaming: ${status.why}`;

  return (
    <Section
      title="Logs"
      id="logs"
      actions={
        <span className={`log-status log-${status.kind}${paused ? ' log-paused' : ''}`} role="status" data-testid="log-status">
          {statusText}
        </span>
      }
    >
      <div className="log-controls">
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? `Resume${newWhilePaused ? ` (${newWhilePaused} new)` : ''}` : 'Pause'}
        </button>
        <label>
          <span>Source</span>
          <select value={source} onChange={(e) => setSource(e.target.value)}>
            <option value="">All sources</option>
            {families.map((f) => (
              <option key={`family:${f}`} value={f}>
                {f} (all)
              </option>
            ))}
            {sources
              .filter((s) => s !== sourceFamily(s))
              .map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
          </select>
        </label>
        <label>
          <span>Filter</span>
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="text in the line" />
        </label>
        <button type="button" onClick={() => setEntries([])}>
          Clear
        </button>
        {status.kind === 'failed' ? (
          <button type="button" onClick={() => setRetryToken((n) => n + 1)}>
            Retry
          </button>
        ) : null}
      </div>
      <div
        className="log-box"
        ref={box}
        role="log"
        aria-label={`Log of ${app.name}`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown.length === 0 ? (
          <p className="muted log-empty">{entries.length === 0 ? 'No log lines yet.' : 'No line matches the filters.'}</p>
        ) : (
          shown.map((e) => (
            <div key={e.id} className={`log-line${e.stream === 'ERR' ? ' log-err' : ''}`} data-source={e.source}>
              <time dateTime={e.timestamp}>{e.timestamp.slice(11, 23)}</time>
              <span className="log-source">{e.source}</span>
              <span className="log-text">{e.text}</span>
            </div>
          ))
        )}
      </div>
    </Section>
  );
}
