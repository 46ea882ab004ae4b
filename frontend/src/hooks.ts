// Polling hooks: one react-query query per entry of the query plan, plus the handshake status
// and the snapshot. Failures become SourceErrors in the query's state, never thrown to React.
import { useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";
import type { Status } from "./api/handshake";
import type { Sample } from "./api/prometheus";
import type { Snapshot } from "./api/snapshot";
import { asSourceError, type SourceError } from "./api/sourceError";
import { sourceState, type PanelState, type SourceName } from "./panelState";
import { OTHER_SOURCES, QUERIES, type InstantQuery, type RangeQuery, type SinceQuery } from "./queryPlan";
import {
  dailyOptions,
  instantOptions,
  pieceOptions,
  rangeOptions,
  snapshotOptions,
  statusOptions,
} from "./queryOptions";
import type { RangeData } from "./range";
import { combinePieces, followLive, MAX_PIECES, piecesSince, type PiecesResult, type Since } from "./since";

// One clock for the whole page, ticking each second ("updated 12 s ago", wake progress).
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    timer = setInterval(() => {
      now = Date.now();
      listeners.forEach((l) => l());
    }, 1000);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}

export function useInstant(q: InstantQuery): UseQueryResult<Sample[], SourceError> {
  return useQuery<Sample[], SourceError>(instantOptions(q));
}

/**
 * A figure since local midnight or the 1st, summed over its pieces (since.ts). The pieces come
 * from the clock at render (the panels render each second): they move on the hour.
 */
// An empty slot's query: disabled, so never asked; answers nothing if something refetches all.
const noPiece = (): Promise<Sample[]> => Promise.resolve([]);

export function useSince(q: SinceQuery, since: Since): PiecesResult {
  const pieces = piecesSince(since, new Date());
  // Always MAX_PIECES queries (a hook's count must not change), the pieces right-aligned: the
  // open one last; a slot without a piece is a disabled query nobody reads. (useQueries would
  // do the same for a varying count, at twice the script.)
  const slots = Array.from({ length: MAX_PIECES }, (_, i) => pieces[pieces.length - MAX_PIECES + i]);
  const answers = slots.map((piece, i) => {
    const answer = useQuery(
      piece ? pieceOptions(q, piece) : { queryKey: ["prometheus", q.id, "no piece", i], queryFn: noPiece, enabled: false },
    );
    return piece ? answer : null;
  });
  // The open piece moves with each live answer (since.ts: followLive).
  const live = useInstant(QUERIES.live);
  const open = answers[MAX_PIECES - 1];
  const followed = open?.data ? followLive(q.follow.parts, open.data, live.data) : undefined;
  const askAgain = followed?.askAgain === true;
  useEffect(() => {
    if (askAgain && open && !open.isFetching) void open.refetch();
    // Once per live answer: the refetch's own answer is older than the next live one.
  }, [askAgain, live.dataUpdatedAt]);
  return combinePieces(
    answers
      .filter((a): a is UseQueryResult<Sample[], Error> => a !== null)
      .map((a) => {
        const moved = a === open && followed?.moved;
        return {
          data: a === open && followed ? followed.samples : a.data,
          dataUpdatedAt: moved ? live.dataUpdatedAt : a.dataUpdatedAt,
          errorUpdatedAt: Math.max(a.errorUpdatedAt, a === open ? live.errorUpdatedAt : 0),
          error: a.error ? asSourceError(a.error) : a === open ? live.error : null,
        };
      }),
  );
}

export function useRange(q: RangeQuery, windowSeconds: number): UseQueryResult<RangeData, SourceError> {
  return useQuery<RangeData, SourceError>(rangeOptions(useQueryClient(), q, windowSeconds));
}

export function useDaily(q: RangeQuery, midnights: number[]): UseQueryResult<RangeData, SourceError> {
  return useQuery<RangeData, SourceError>(dailyOptions(q, midnights));
}

/** The handshake status: every 5 s, every 1 s while a wake runs (ours or anyone's). */
export function useStatus(waking: boolean): UseQueryResult<Status, SourceError> {
  return useQuery<Status, SourceError>({
    ...statusOptions,
    refetchInterval: (query) =>
      1000 *
      (waking || query.state.data?.nas_state === "waking"
        ? OTHER_SOURCES.status.wakingRefreshSeconds
        : OTHER_SOURCES.status.refreshSeconds),
  });
}

/**
 * The snapshot, asked for only once the status names one (so a Pi without a snapshot sees no
 * 404 in its console), and again whenever the NAS stores a new one.
 */
export function useSnapshot(lastSnapshot: string | null | undefined): UseQueryResult<Snapshot | null, SourceError> {
  return useQuery<Snapshot | null, SourceError>({
    ...snapshotOptions(lastSnapshot),
    enabled: Boolean(lastSnapshot),
  });
}

export function stateOf(
  q: Pick<UseQueryResult<unknown, SourceError>, "dataUpdatedAt" | "errorUpdatedAt" | "error">,
  source: SourceName,
  refreshSeconds: number,
  nowMs: number,
): PanelState {
  return sourceState(
    {
      source,
      dataUpdatedAt: q.dataUpdatedAt,
      errorUpdatedAt: q.errorUpdatedAt,
      error: q.error ?? null,
      refreshSeconds,
    },
    nowMs,
  );
}
