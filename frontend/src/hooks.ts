// Polling hooks: one react-query query per entry of the query plan, plus the handshake status
// and the snapshot. Failures become SourceErrors in the query's state, never thrown to React.
import { useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { fetchStatus, type Status } from "./api/handshake";
import { queryInstant, queryRange, type Sample } from "./api/prometheus";
import { fetchSnapshot, type Snapshot } from "./api/snapshot";
import { asSourceError, type SourceError } from "./api/sourceError";
import { sourceState, type PanelState, type SourceName } from "./panelState";
import { OTHER_SOURCES, render, type InstantQuery, type RangeQuery } from "./queryPlan";
import { mergeRange, nextRequest, type RangeData } from "./range";

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

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asSourceError(err);
  }
}

export function useInstant(q: InstantQuery): UseQueryResult<Sample[], SourceError> {
  return useQuery<Sample[], SourceError>({
    queryKey: ["prometheus", q.id],
    queryFn: ({ signal }) => guarded(() => queryInstant(render(q, { now: new Date() }), signal)),
    refetchInterval: q.refreshSeconds * 1000,
  });
}

/** A chart's window, refreshed by asking only for its tail (range.ts). */
export function useRange(q: RangeQuery, windowSeconds: number): UseQueryResult<RangeData, SourceError> {
  const client = useQueryClient();
  const key = ["prometheus", q.id, windowSeconds];
  return useQuery<RangeData, SourceError>({
    queryKey: key,
    queryFn: ({ signal }) =>
      guarded(async () => {
        const previous = client.getQueryData<RangeData>(key);
        const req = nextRequest(q.refresh === "tail" ? previous : undefined, windowSeconds, Date.now() / 1000);
        const series = await queryRange(render(q, { step: req.step, windowSeconds }), req.start, req.end, req.step, signal);
        return mergeRange(q.refresh === "tail" ? previous : undefined, series, req, windowSeconds);
      }),
    refetchInterval: q.refreshSeconds * 1000,
  });
}

/** Points at local midnights (one per day): a fixed 1-day step, asked in full. */
export function useDaily(
  q: RangeQuery,
  midnights: number[],
): UseQueryResult<RangeData, SourceError> {
  const first = midnights[0] ?? 0;
  const last = midnights[midnights.length - 1] ?? 0;
  return useQuery<RangeData, SourceError>({
    queryKey: ["prometheus", q.id, first, last],
    queryFn: ({ signal }) =>
      guarded(async () => {
        const step = q.fixedStepSeconds ?? 86400;
        const series = await queryRange(render(q, { step }), first, last, step, signal);
        return { step, windowSeconds: last - first, series, end: last };
      }),
    refetchInterval: q.refreshSeconds * 1000,
  });
}

/** The handshake status: every 5 s, every 1 s while a wake runs (ours or anyone's). */
export function useStatus(waking: boolean): UseQueryResult<Status, SourceError> {
  return useQuery<Status, SourceError>({
    queryKey: ["status"],
    queryFn: ({ signal }) => guarded(() => fetchStatus(signal)),
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
    queryKey: ["snapshot", lastSnapshot ?? null],
    queryFn: ({ signal }) => guarded(() => fetchSnapshot(signal)),
    enabled: Boolean(lastSnapshot),
    refetchInterval: OTHER_SOURCES.snapshot.refreshSeconds * 1000,
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
