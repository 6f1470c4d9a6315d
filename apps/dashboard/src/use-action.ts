import { useCallback, useRef, useState } from 'react';

export interface ActionState {
  /** What is in progress ("Scaling web to 3…"), if anything. */
  pending?: string;
  /** The outcome of the last action that succeeded. */
  done?: string;
  /** The API's message of the last action that failed (with its code). */
  error?: { message: string; code?: string };
}

/**
 * Runs one user action at a time and keeps what the person must see: that it is in progress,
 * what it did, or the API's error message. `fn` answers the success message.
 */
export function useAction(onDone?: () => void) {
  const [state, setState] = useState<ActionState>({});
  const busy = useRef(false);
  const run = useCallback(
    async (pending: string, fn: () => Promise<string | undefined | void>): Promise<boolean> => {
      if (busy.current) return false;
      busy.current = true;
      setState({ pending });
      try {
        const done = await fn();
        setState({ done: done || undefined });
        onDone?.();
        return true;
      } catch (error) {
        const e = error as Error & { code?: string };
        setState({ error: { message: e.message, code: e.code } });
        return false;
      } finally {
        busy.current = false;
      }
    },
    [onDone],
  );
  const clear = useCallback(() => setState({}), []);
  return { ...state, busy: state.pending !== undefined, run, clear };
}
