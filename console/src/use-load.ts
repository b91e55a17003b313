import { useCallback, useEffect, useState } from 'react';
import { toShownError, type ShownError } from './errors';

/** Loads data once (and on reload()), with loading and error states. */
export function useLoad<T>(load: () => Promise<T>): { data: T | undefined; loading: boolean; error: ShownError | undefined; reload: () => void } {
  const [data, setData] = useState<T | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ShownError | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
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
  return { data, loading, error, reload: useCallback(() => setTick((t) => t + 1), []) };
}
