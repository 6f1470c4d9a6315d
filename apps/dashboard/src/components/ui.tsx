import { useEffect, useState, type ReactNode } from 'react';
import type { ActionState } from '../use-action';

/** Percentage of `value` in `max`, 0..100 (0 when max is unknown). */
export function percent(value: number, max: number): number {
  if (!(max > 0) || !(value >= 0)) return 0;
  return Math.min(100, (value / max) * 100);
}

/**
 * A horizontal bar of `value` against `max`, with its figures as text beside it. Amber from 75%,
 * red from 90%. role="meter" so screen readers announce it; `max` unknown shows the text only.
 */
export function Meter({ label, value, max, text }: { label: string; value: number; max?: number | null; text: string }) {
  const known = max !== undefined && max !== null && max > 0;
  const p = known ? percent(value, max) : 0;
  const level = p >= 90 ? 'high' : p >= 75 ? 'mid' : 'low';
  return (
    <div className="meter">
      {known ? (
        <div
          className="meter-track"
          role="meter"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={max}
          aria-valuenow={Math.round(value * 10) / 10}
          aria-valuetext={text}
        >
          <div className={`meter-fill meter-${level}`} style={{ width: `${p}%` }} />
        </div>
      ) : null}
      <span className="meter-text">{text}</span>
    </div>
  );
}

const STATE_CLASS: Record<string, string> = {
  RUNNING: 'ok',
  STARTED: 'ok',
  DEPLOYED: 'ok',
  STAGED: 'ok',
  live: 'ok',
  STARTING: 'busy',
  STOPPING: 'warn',
  DEPLOYING: 'busy',
  STAGING: 'busy',
  draining: 'warn',
  CRASHED: 'bad',
  FAILED: 'bad',
  lost: 'bad',
  UNPLACED: 'bad',
  STOPPED: 'idle',
  DOWN: 'idle',
  CANCELED: 'idle',
  // service instances (status, last operation) and backups
  available: 'ok',
  succeeded: 'ok',
  starting: 'busy',
  'in progress': 'busy',
  crashed: 'bad',
  unavailable: 'bad',
  failed: 'bad',
  // domains and certificates
  verified: 'ok',
  issued: 'ok',
  pending: 'busy',
  expired: 'bad',
};

export function StateBadge({ state }: { state: string }) {
  return <span className={`badge badge-${STATE_CLASS[state] ?? 'idle'}`}>{state}</span>;
}

/** What an action is doing, did, or why it failed (the API's message). */
export function ActionStatus({ state, onDismiss }: { state: ActionState; onDismiss?: () => void }) {
  if (state.pending) {
    return (
      <p className="status status-pending" role="status">
        <span className="spinner" aria-hidden="true" /> {state.pending}
      </p>
    );
  }
  if (state.error) {
    return (
      <div className="status status-error" role="alert">
        <span>
          {state.error.code ? <code>{state.error.code}</code> : null} {state.error.message}
        </span>
        {onDismiss ? (
          <button type="button" className="link-button" onClick={onDismiss}>
            Dismiss
          </button>
        ) : null}
      </div>
    );
  }
  if (state.done) {
    return (
      <p className="status status-done" role="status">
        {state.done}
      </p>
    );
  }
  return null;
}

/** The error of a poll: the last good data stays on screen below it. */
export function PollError({ error, what }: { error?: Error; what: string }) {
  if (!error) return null;
  const code = (error as Error & { code?: string }).code;
  return (
    <p className="status status-error" role="alert">
      Could not load {what}: {code ? <code>{code}</code> : null} {error.message} (retrying)
    </p>
  );
}

/** A button that asks "sure?" in place before it acts (no modal dialog). */
export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  disabled,
  className,
  ariaLabel,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  className?: string;
  /** The first button's accessible name when its label alone is ambiguous (one per table row). */
  ariaLabel?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" className={className} disabled={disabled} aria-label={ariaLabel} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm">
      <button
        type="button"
        className="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Section({ title, id, actions, children }: { title: string; id?: string; actions?: ReactNode; children: ReactNode }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      <div className="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="card-actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/** Re-renders every `ms` (for relative times and uptimes that advance between polls). */
export function useNow(ms = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** "3 min ago", with the exact time as a tooltip and for screen readers via <time>. */
export function Ago({ iso, now }: { iso: string | null | undefined; now: number }) {
  if (!iso) return <span className="muted">—</span>;
  const t = Date.parse(iso);
  const s = Math.max(0, Math.round((now - t) / 1000));
  const text = s < 5 ? 'just now' : s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86400)} d ago`;
  return (
    <time dateTime={iso} title={new Date(t).toLocaleString()}>
      {text}
    </time>
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}

export function formatMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(mb % 1024 === 0 ? 0 : 1)} GB` : `${Math.round(mb)} MB`;
}
