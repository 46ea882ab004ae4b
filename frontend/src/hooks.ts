// Polling hooks: one react-query query per entry of the query plan, plus the handshake status
// and the snapshot. Failures become SourceErrors in the query's state, never thrown to React.
import { useQuery, useQueryClient, type QueryClient, type UseQueryResult } from "@tanstack/react-query";
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

// On mount, a query the page's start already fetched (prefetch.ts) is not asked again until its
// refresh is due: the first answer is reused instead of doubling the first load's requests.
const dueOnMount =
  (refreshSeconds: number) =>
  (query: { state: { dataUpdatedAt: number } }): boolean =>
    Date.now() - query.state.dataUpdatedAt >= refreshSeconds * 1000;

export function instantOptions(q: InstantQuery) {
  return {
    queryKey: ["prometheus", q.id],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      guarded(() => queryInstant(render(q, { now: new Date() }), signal)),
    refetchInterval: q.refreshSeconds * 1000,
    refetchOnMount: dueOnMount(q.refreshSeconds),
  };
}

export function useInstant(q: InstantQuery): UseQueryResult<Sample[], SourceError> {
  return useQuery<Sample[], SourceError>(instantOptions(q));
}

/** A chart's window, refreshed by asking only for its tail (range.ts). */
export function rangeOptions(client: QueryClient, q: RangeQuery, windowSeconds: number) {
  const key = ["prometheus", q.id, windowSeconds];
  return {
    queryKey: key,
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      guarded(async () => {
        const previous = client.getQueryData<RangeData>(key);
        const req = nextRequest(q.refresh === "tail" ? previous : undefined, windowSeconds, Date.now() / 1000);
        const series = await queryRange(render(q, { step: req.step, windowSeconds }), req.start, req.end, req.step, signal);
        return mergeRange(q.refresh === "tail" ? previous : undefined, series, req, windowSeconds);
      }),
    refetchInterval: q.refreshSeconds * 1000,
    refetchOnMount: dueOnMount(q.refreshSeconds),
  };
}

export function useRange(q: RangeQuery, windowSeconds: number): UseQueryResult<RangeData, SourceError> {
  return useQuery<RangeData, SourceError>(rangeOptions(useQueryClient(), q, windowSeconds));
}

/** Points at local midnights (one per day): a fixed 1-day step, asked in full. */
export function dailyOptions(q: RangeQuery, midnights: number[]) {
  const first = midnights[0] ?? 0;
  const last = midnights[midnights.length - 1] ?? 0;
  return {
    queryKey: ["prometheus", q.id, first, last],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      guarded(async (): Promise<RangeData> => {
        const step = q.fixedStepSeconds ?? 86400;
        const series = await queryRange(render(q, { step }), first, last, step, signal);
        return { step, windowSeconds: last - first, series, end: last };
      }),
    refetchInterval: q.refreshSeconds * 1000,
    refetchOnMount: dueOnMount(q.refreshSeconds),
  };
}

export function useDaily(q: RangeQuery, midnights: number[]): UseQueryResult<RangeData, SourceError> {
  return useQuery<RangeData, SourceError>(dailyOptions(q, midnights));
}

/** The handshake status: every 5 s, every 1 s while a wake runs (ours or anyone's). */
export const statusOptions = {
  queryKey: ["status"],
  queryFn: ({ signal }: { signal: AbortSignal }) => guarded(() => fetchStatus(signal)),
  refetchOnMount: dueOnMount(OTHER_SOURCES.status.refreshSeconds),
};

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

export function snapshotOptions(lastSnapshot: string | null | undefined) {
  return {
    queryKey: ["snapshot", lastSnapshot ?? null],
    queryFn: ({ signal }: { signal: AbortSignal }) => guarded(() => fetchSnapshot(signal)),
    refetchInterval: OTHER_SOURCES.snapshot.refreshSeconds * 1000,
    refetchOnMount: dueOnMount(OTHER_SOURCES.snapshot.refreshSeconds),
  };
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
