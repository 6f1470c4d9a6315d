import { useEffect, useState } from 'react';
import type { EventView } from '@paas/contracts';
import { Ago, PollError, useNow } from '../components/ui';
import { Link } from '../router';
import { scopeKey, useScope, useSession } from '../session';
import { usePoll } from '../use-poll';

/** Event types the platform records (docs/api.md), offered as suggestions in the type filter. */
const KNOWN_TYPES = [
  'app-created',
  'app-deleted',
  'app-renamed',
  'app-pushed',
  'app-manifest-applied',
  'app-started',
  'app-stopped',
  'app-restarted',
  'app-scaled',
  'app-env-changed',
  'app-rolled-back',
  'process-updated',
  'deploy-started',
  'deploy-succeeded',
  'deploy-failed',
  'deploy-cancel-requested',
  'deploy-canceled',
  'instance-crashed',
  'instance-lost',
  'cell-drain-requested',
  'cell-undrained',
  'route-created',
  'route-deleted',
  'route-mapped',
  'route-unmapped',
  'route-destination-updated',
  'service-instance-created',
  'service-instance-create-succeeded',
  'service-instance-create-failed',
  'service-instance-renamed',
  'service-instance-delete-requested',
  'service-instance-deleted',
  'service-instance-delete-failed',
  'service-bound',
  'service-unbound',
  'service-backup-started',
  'service-backup-succeeded',
  'service-backup-failed',
  'service-backup-deleted',
  'service-instance-restore-requested',
  'service-instance-restore-succeeded',
  'service-instance-restore-failed',
  'domain-created',
  'domain-deleted',
  'org-created',
  'org-renamed',
  'org-deleted',
  'space-created',
  'space-renamed',
  'space-deleted',
  'role-set',
  'role-removed',
  'user-created',
  'user-deleted',
  'token-created',
  'token-deleted',
];

function summary(data: unknown): string {
  if (data === null || data === undefined) return '';
  if (typeof data !== 'object') return String(data);
  return Object.entries(data as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** The audit log, newest first, live: filter by type (server side), by text (actor, target, details) and by the chosen org/space. */
export function EventsPage() {
  const { api } = useSession();
  const scope = useScope();
  const now = useNow(5_000);
  const [types, setTypes] = useState('');
  const [text, setText] = useState('');
  const [limit, setLimit] = useState(100);
  // The type filter goes to the API: ask once the person stops typing.
  const [appliedTypes, setAppliedTypes] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setAppliedTypes(types), 400);
    return () => clearTimeout(timer);
  }, [types]);
  const typeList = appliedTypes
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const events = usePoll(`events:${scopeKey(scope)}:${typeList.join(',')}:${limit}`, () =>
    api.events({ types: typeList.length ? typeList : undefined, spaceIds: scope.spaceIds }, limit),
  );
  useEffect(() => {
    document.title = 'Events · paas';
  }, []);

  const needle = text.trim().toLowerCase();
  const matches = (e: EventView) =>
    !needle || [e.type, e.actor.name, e.target.type, e.target.name, e.target.id, summary(e.data)].some((s) => s.toLowerCase().includes(needle));
  const shown = (events.data ?? []).filter(matches);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Events</h1>
      </div>
      <form className="inline-form filters" onSubmit={(e) => e.preventDefault()} role="search" aria-label="Filter events">
        <label>
          <span>Types</span>
          <input list="event-types" className="wide" value={types} onChange={(e) => setTypes(e.target.value)} placeholder="e.g. app-scaled,route-mapped" spellCheck={false} />
          <datalist id="event-types">
            {KNOWN_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          <span>Text</span>
          <input type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="actor, target, details" />
        </label>
        <label>
          <span>Newest</span>
          <select value={limit} onChange={(e) => setLimit(Number(e.target.value))}>
            <option value={50}>50</option>
            <option value={100}>100</option>
            <option value={200}>200</option>
          </select>
        </label>
      </form>
      <PollError error={events.error} what="the events" />
      {!events.data ? (
        <p className="muted" role="status">
          Loading events…
        </p>
      ) : shown.length === 0 ? (
        <p className="empty">No event matches.</p>
      ) : (
        <div className="table-wrap">
          <table className="events-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col">Actor</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((e) => (
                <tr key={e.id} data-type={e.type}>
                  <td>
                    <Ago iso={e.created_at} now={now} />
                  </td>
                  <td>
                    <code>{e.type}</code>
                  </td>
                  <td>{e.actor.name}</td>
                  <td>
                    <span className="muted">{e.target.type}</span>{' '}
                    {e.target.type === 'app' ? (
                      <Link to={`/apps/${encodeURIComponent(e.target.name)}`}>{e.target.name}</Link>
                    ) : e.target.type === 'service_instance' ? (
                      <Link to="/services">{e.target.name}</Link>
                    ) : (
                      e.target.name
                    )}
                  </td>
                  <td className="details">{summary(e.data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
