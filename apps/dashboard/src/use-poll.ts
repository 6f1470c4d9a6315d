import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  /** The latest answer (kept while a later poll fails). */
  data?: T;
  /** The error of the latest poll, cleared by the next success. */
  error?: Error;
  /** When `data` was loaded (ms since the epoch). */
  updatedAt?: number;
  /** Loads again now (after an action), then goes on polling. */
  refresh: () => void;
}

/** How long to wait after `failures` polls in a row failed: the interval, doubled per failure, at most 30 s. */
export function nextDelay(intervalMs: number, failures: number): number {
  return Math.min(intervalMs * 2 ** Math.min(failures, 10), 30_000);
}

/**
 * Loads `load()` now and then every `intervalMs` while the component is mounted and the tab is
 * visible; failures back off (doubling, up to 30 s) and the last good answer stays on screen.
 * A new `key` starts over (and forgets the data of the old key). Never two loads at once.
 */
export function usePoll<T>(key: string, load: () => Promise<T>, intervalMs = 2_000): Polled<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; updatedAt?: number }>({ key });
  const loadRef = useRef(load);
  loadRef.current = load;
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    let stopped = false;
    let running = false;
    let again = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => (s.key === key ? s : { key }));
    const schedule = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => void tick(), ms);
    };
    const tick = async () => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      if (document.hidden) return schedule(intervalMs);
      running = true;
      try {
        const data = await loadRef.current();
        if (stopped) return;
        failures = 0;
        setState({ key, data, updatedAt: Date.now() });
      } catch (error) {
        if (stopped) return;
        failures += 1;
        setState((s) => ({ ...(s.key === key ? s : { key }), error: error as Error }));
      } finally {
        running = false;
      }
      if (again) {
        again = false;
        schedule(0);
      } else schedule(nextDelay(intervalMs, failures));
    };
    const onVisible = () => {
      if (!document.hidden) schedule(0);
    };
    kick.current = () => schedule(0);
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [key, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  const current = state.key === key ? state : { key };
  return { data: current.data, error: current.error, updatedAt: current.updatedAt, refresh };
}
