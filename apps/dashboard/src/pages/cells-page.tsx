import { useEffect, useMemo, useState } from 'react';
import type { CellView } from '@paas/contracts';
import { ActionStatus, Ago, ConfirmButton, Meter, PollError, StateBadge, formatMb, useNow } from '../components/ui';
import { seenCells, type SeenCell } from '../config';
import { Link } from '../router';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';

/**
 * Cells: capacity bars (memory, containers, disk when the cell reports it), zone, state and the
 * apps with instances on each; drain and undrain. The API lists live cells only: a cell this
 * browser saw live that is gone from the list is shown as lost until it comes back or is forgotten.
 */
export function CellsPage() {
  const { api, apiUrl, me } = useSession();
  const now = useNow(5_000);
  const cells = usePoll('cells', () => api.cells());
  const action = useAction(cells.refresh);
  useEffect(() => {
    document.title = 'Cells · paas';
  }, []);

  // Remember every live cell; the ones missing now are lost.
  const [seen, setSeen] = useState<Record<string, SeenCell>>(() => seenCells.get(apiUrl));
  useEffect(() => {
    if (!cells.data) return;
    const next = seenCells.get(apiUrl);
    const stamp = new Date(cells.updatedAt ?? Date.now()).toISOString();
    for (const c of cells.data) next[c.id] = { id: c.id, zone: c.zone, address: c.address, lastSeen: stamp };
    seenCells.set(apiUrl, next);
    setSeen(next);
  }, [cells.data, cells.updatedAt, apiUrl]);
  const lost = useMemo<SeenCell[]>(() => {
    if (!cells.data) return [];
    const live = new Set(cells.data.map((c) => c.id));
    return Object.values(seen)
      .filter((c) => !live.has(c.id))
      .sort((a, b) => a.id.localeCompare(b.id));
  }, [cells.data, seen]);

  const forget = (id: string) => {
    const next = seenCells.get(apiUrl);
    delete next[id];
    seenCells.set(apiUrl, next);
    setSeen(next);
  };

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Cells</h1>
        {cells.data ? (
          <p className="muted">
            {cells.data.filter((c) => c.state !== 'draining').length} live · {cells.data.filter((c) => c.state === 'draining').length} draining · {lost.length} lost
          </p>
        ) : null}
      </div>
      {!me.is_admin ? <p className="hint">Draining a cell needs a platform admin's token.</p> : null}
      <ActionStatus state={action} onDismiss={action.clear} />
      <PollError error={cells.error} what="the cells" />
      {!cells.data ? (
        <p className="muted" role="status">
          Loading cells…
        </p>
      ) : (
        <ul className="cell-grid">
          {cells.data.map((cell) => (
            <CellCard
              key={cell.id}
              cell={cell}
              now={now}
              busy={action.busy}
              onDrain={() =>
                void action.run(`Draining ${cell.id}…`, async () => {
                  await api.drainCell(cell.id);
                  return `Draining ${cell.id}: its instances start elsewhere, then stop there`;
                })
              }
              onUndrain={() =>
                void action.run(`Undraining ${cell.id}…`, async () => {
                  await api.undrainCell(cell.id);
                  return `${cell.id} takes work again (from its next heartbeat)`;
                })
              }
            />
          ))}
          {lost.map((cell) => (
            <li key={cell.id} className="card cell-card cell-lost" data-cell={cell.id} data-state="lost">
              <div className="card-head">
                <h2>{cell.id}</h2>
                <StateBadge state="lost" />
              </div>
              <p>
                Zone {cell.zone} · {cell.address}
              </p>
              <p className="muted">
                Last seen <Ago iso={cell.lastSeen} now={now} />: it stopped refreshing its presence. Its instances are replaced on live cells.
              </p>
              <button type="button" className="small-button" onClick={() => forget(cell.id)}>
                Forget {cell.id}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CellCard({ cell, now, busy, onDrain, onUndrain }: { cell: CellView; now: number; busy: boolean; onDrain: () => void; onUndrain: () => void }) {
  const containers = cell.instances.total - cell.instances.stopped;
  const diskMax = cell.capacity.disk_mb;
  return (
    <li className="card cell-card" data-cell={cell.id} data-state={cell.state}>
      <div className="card-head">
        <h2>{cell.id}</h2>
        <StateBadge state={cell.state} />
      </div>
      <p className="muted small">
        Zone <strong>{cell.zone}</strong> · {cell.address} · up <Ago iso={cell.started_at} now={now} />
      </p>
      <div className="cell-meters">
        <span>Memory</span>
        <Meter
          label={`Memory of ${cell.id}`}
          value={cell.allocated_memory_mb}
          max={cell.capacity.memory_mb}
          text={`${formatMb(cell.allocated_memory_mb)} of ${formatMb(cell.capacity.memory_mb)} allocated`}
        />
        <span>Containers</span>
        <Meter label={`Containers of ${cell.id}`} value={containers} max={cell.capacity.max_containers} text={`${containers} of ${cell.capacity.max_containers}`} />
        <span>Disk</span>
        {diskMax ? (
          <Meter
            label={`Disk of ${cell.id}`}
            value={cell.allocated_disk_mb ?? 0}
            max={diskMax}
            text={`${formatMb(cell.allocated_disk_mb ?? 0)} of ${formatMb(diskMax)} allocated`}
          />
        ) : (
          <span className="muted small">not reported by this cell</span>
        )}
      </div>
      <p className="cell-counts" data-testid="instance-counts">
        <span>{cell.instances.running} running</span>
        {cell.instances.starting ? <span> · {cell.instances.starting} starting</span> : null}
        {cell.instances.stopping ? <span> · {cell.instances.stopping} stopping</span> : null}
        {cell.instances.crashed ? <span className="bad-text"> · {cell.instances.crashed} crashed</span> : null}
      </p>
      {cell.apps.length === 0 ? (
        <p className="empty small">No app instances.</p>
      ) : (
        <ul className="inline-list cell-apps" aria-label={`Apps on ${cell.id}`}>
          {cell.apps.map((a) => (
            <li key={a.id} data-app={a.name} data-instances={a.instances}>
              <Link to={`/apps/${encodeURIComponent(a.name)}`}>{a.name}</Link> × {a.instances}
            </li>
          ))}
        </ul>
      )}
      <div className="button-row">
        {cell.state === 'draining' ? (
          <button type="button" disabled={busy} onClick={onUndrain}>
            Undrain {cell.id}
          </button>
        ) : (
          <ConfirmButton label={`Drain ${cell.id}`} confirmLabel={`Confirm drain of ${cell.id}`} disabled={busy} onConfirm={onDrain} />
        )}
      </div>
    </li>
  );
}
