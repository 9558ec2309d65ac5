/**
 * Search as one types: GET /search a short pause after the last keystroke, the request of
 * an earlier query cancelled, "load more" from the cursor. While the server is still
 * building its index (503) it says so and asks again every few seconds, for a while.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SearchResult } from '../../shared/search-shapes.js';
import * as api from '../core/api.js';
import { ApiError } from '../core/api.js';
import { messageOf } from '../core/chat-state.js';

const DEBOUNCE_MS = 200;
const BUILDING_RETRY_MS = 5_000;
/** Five minutes of asking again (a build takes seconds per million messages). */
const BUILDING_RETRIES = 60;
const PAGE = 20;

export interface SearchState {
  status: 'idle' | 'loading' | 'done' | 'error';
  /** The query the results (and the highlighting) are for. */
  q: string;
  results: readonly SearchResult[];
  nextCursor?: string;
  error: string | null;
  /** The error is the server's 503 while its index is built: retried on its own. */
  building: boolean;
  loadingMore: boolean;
}

const IDLE: SearchState = { status: 'idle', q: '', results: [], error: null, building: false, loadingMore: false };

export function useMessageSearch(q: string, roomId: string) {
  const [state, setState] = useState<SearchState>(IDLE);
  const [attempt, setAttempt] = useState(0);
  const current = useRef<AbortController | null>(null);
  const retries = useRef({ key: '', count: 0 });

  async function fetchPage(abort: AbortController, before: string | undefined): Promise<void> {
    try {
      const page = await api.searchMessages({ q, roomId: roomId || undefined, before, limit: PAGE }, abort.signal);
      if (abort.signal.aborted) return;
      setState((held) => ({
        status: 'done',
        q,
        results: before ? [...held.results, ...page.results] : page.results,
        nextCursor: page.nextCursor,
        error: null,
        building: false,
        loadingMore: false,
      }));
    } catch (error) {
      if (abort.signal.aborted) return;
      const building = error instanceof ApiError && error.code === 'search_index_building';
      // A failed first page shows no results; a failed "load more" keeps those shown.
      setState((held) =>
        before
          ? { ...held, error: messageOf(error), building, loadingMore: false }
          : { ...held, status: 'error', results: [], nextCursor: undefined, error: messageOf(error), building, loadingMore: false },
      );
      if (building && retries.current.count < BUILDING_RETRIES) {
        retries.current.count += 1;
        const retry = setTimeout(() => setAttempt((n) => n + 1), BUILDING_RETRY_MS);
        abort.signal.addEventListener('abort', () => clearTimeout(retry));
      }
    }
  }

  useEffect(() => {
    const key = `${q}\n${roomId}`;
    if (retries.current.key !== key) retries.current = { key, count: 0 };
    if (!q.trim()) {
      setState(IDLE);
      return;
    }
    // Earlier results stay on screen until the new ones come, and "being built" until it no longer is.
    setState((held) => ({ ...held, status: 'loading', loadingMore: false, error: held.building ? held.error : null }));
    const abort = new AbortController();
    current.current = abort;
    const timer = setTimeout(() => void fetchPage(abort, undefined), DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [q, roomId, attempt]);

  return {
    state,
    loadMore(): void {
      const abort = current.current;
      if (!abort || !state.nextCursor || state.loadingMore || state.status !== 'done') return;
      setState((held) => ({ ...held, loadingMore: true, error: null }));
      void fetchPage(abort, state.nextCursor);
    },
  };
}
