import { useCallback, useEffect, useRef, useState } from 'react';
import { toShownError, type ShownError } from './errors';

/**
 * Loads data once (and on reload()), with loading and error states. refresh() loads again
 * without the loading state (polling: the table keeps its rows while the next answer comes).
 */
export function useLoad<T>(load: () => Promise<T>): { data: T | undefined; loading: boolean; error: ShownError | undefined; reload: () => void; refresh: () => void } {
  const [data, setData] = useState<T | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ShownError | undefined>();
  const [tick, setTick] = useState(0);
  const quiet = useRef(false);
  useEffect(() => {
    let live = true;
    if (!quiet.current) setLoading(true);
    quiet.current = false;
    load().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (!live) return;
        setError(toShownError(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const refresh = useCallback(() => {
    quiet.current = true;
    setTick((t) => t + 1);
  }, []);
  return { data, loading, error, reload, refresh };
}
