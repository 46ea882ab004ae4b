// Each source's query options (key, fetch, refresh), without React: the page's entry script
// starts the first requests with them (prefetch.ts) before the React chunk has loaded, and the
// hooks (hooks.ts) poll with the same ones.
import type { QueryClient } from "@tanstack/react-query";
import { fetchStatus } from "./api/handshake";
import { queryInstant, queryRange } from "./api/prometheus";
import { fetchSnapshot } from "./api/snapshot";
import { asSourceError } from "./api/sourceError";
import { OTHER_SOURCES, render, type InstantQuery, type RangeQuery, type SinceQuery } from "./queryPlan";
import { mergeRange, nextRequest, type RangeData } from "./range";
import { ScrapeClock } from "./scrape";
import { pieceSettled, pieceValues, type Piece } from "./since";
import type { Sample } from "./api/prometheus";

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

// One clock per live query for the page's lifetime: it learns the scrape interval.
const clocks = new Map<string, ScrapeClock>();
function clockOf(id: string): ScrapeClock {
  let clock = clocks.get(id);
  if (!clock) clocks.set(id, (clock = new ScrapeClock()));
  return clock;
}

// A source that failed is asked again this soon, not at its own pace: a figure refreshed every
// 5 minutes would otherwise say "not answering" for 5 minutes after a Prometheus that was
// starting (or briefly too busy) answers again.
export const RETRY_AFTER_FAILURE_MS = 10_000;

interface QueryTimes {
  state: { dataUpdatedAt: number; errorUpdatedAt: number };
}
const failing = (query: QueryTimes): boolean => query.state.errorUpdatedAt > query.state.dataUpdatedAt;

/** Every ``ms``, or RETRY_AFTER_FAILURE_MS after a failure when that is sooner. */
export function everyOrSooner(ms: number | false) {
  return (query: QueryTimes): number | false =>
    failing(query) ? Math.min(ms === false ? Infinity : ms, RETRY_AFTER_FAILURE_MS) : ms;
}

export function instantOptions(q: InstantQuery) {
  return {
    queryKey: ["prometheus", q.id],
    queryFn: ({ signal }: { signal: AbortSignal }) => guarded(() => queryInstant(render(q), signal)),
    refetchInterval: q.followsScrape
      ? (query: { state: { data: Sample[] | undefined } }) => clockOf(q.id).untilNextMs(query.state.data, Date.now())
      : everyOrSooner(q.refreshSeconds * 1000),
    refetchOnMount: dueOnMount(q.refreshSeconds),
  };
}

/**
 * One piece of a figure since midnight or the 1st (since.ts). A closed piece is asked until
 * its answer is settled, then never again; the open one once (again when since.ts's followLive
 * asks, or the page is back in view): the live request moves it.
 */
export function pieceOptions(q: SinceQuery, piece: Piece) {
  const open = piece.end === null;
  return {
    queryKey: ["prometheus", q.id, piece.start, piece.end ?? "open"],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      guarded(() => {
        const values = pieceValues(piece, new Date());
        return queryInstant(render(open ? { ...q, promql: q.follow.open } : q, { piece: values }), signal, piece.end ?? undefined);
      }),
    refetchInterval: (query: QueryTimes) =>
      everyOrSooner(open || pieceSettled(piece, query.state.dataUpdatedAt) ? false : q.refreshSeconds * 1000)(query),
    refetchOnMount: false,
  };
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
    refetchInterval: everyOrSooner(q.refreshSeconds * 1000),
    refetchOnMount: dueOnMount(q.refreshSeconds),
  };
}

/**
 * Points at local midnights (one per day), a fixed 1-day step: the past days do not change, so
 * the answer is asked once a day (again only if asked within a minute of the last midnight,
 * before the day's last rule evaluation was stored).
 */
export function dailyOptions(q: RangeQuery, midnights: number[]) {
  const first = midnights[0] ?? 0;
  const last = midnights[midnights.length - 1] ?? 0;
  const day: Piece = { start: first, end: last };
  return {
    queryKey: ["prometheus", q.id, first, last],
    queryFn: ({ signal }: { signal: AbortSignal }) =>
      guarded(async (): Promise<RangeData> => {
        const step = q.fixedStepSeconds ?? 86400;
        const series = await queryRange(render(q, { step }), first, last, step, signal);
        return { step, windowSeconds: last - first, series, end: last };
      }),
    refetchInterval: (query: QueryTimes) =>
      everyOrSooner(pieceSettled(day, query.state.dataUpdatedAt) ? false : q.refreshSeconds * 1000)(query),
    refetchOnMount: false,
  };
}

export const statusOptions = {
  queryKey: ["status"],
  queryFn: ({ signal }: { signal: AbortSignal }) => guarded(() => fetchStatus(signal)),
  refetchOnMount: dueOnMount(OTHER_SOURCES.status.refreshSeconds),
};

export function snapshotOptions(lastSnapshot: string | null | undefined) {
  return {
    queryKey: ["snapshot", lastSnapshot ?? null],
    queryFn: ({ signal }: { signal: AbortSignal }) => guarded(() => fetchSnapshot(signal)),
    refetchInterval: everyOrSooner(OTHER_SOURCES.snapshot.refreshSeconds * 1000),
    refetchOnMount: dueOnMount(OTHER_SOURCES.snapshot.refreshSeconds),
  };
}

