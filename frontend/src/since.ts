// Figures since local midnight or since the 1st (kWh, cost, hours online, wakes) without
// re-reading the whole day or month on every refresh: the span is cut at anchors that only
// move forward (today's midnight, the last full hour), each closed piece is asked once, and
// only the open piece since the last full hour is asked again on each refresh. The figure is
// the sum of its pieces, series by series.
// With .ts extensions: vite.config.ts loads this file for the query plan.
import type { Labels, Sample } from "./api/prometheus.ts";
import { EVALUATED_AT_Q as AT, PRICE, type Part } from "./queryPlan.ts";
import type { SourceError } from "./api/sourceError.ts";
import { seriesKey } from "./range.ts";

export type Since = "day" | "month";

/** A piece of the span: the figure over (start, end]; ``end`` null = up to now (the open one). */
export interface Piece {
  start: number;
  end: number | null;
}

// A closed piece ends at least this long before it is asked: its last scrape is stored by then.
export const SETTLE_SECONDS = 60;
// The open piece's range is at least this much (where a piece falls back to increase(), that
// needs two samples; a scrape is every 15 s).
export const MIN_OPEN_SECONDS = 60;
// How far back `x @ start` finds a counter's last value before a piece (Prometheus's lookback).
export const LOOKBACK_SECONDS = 300;

const seconds = (d: Date): number => Math.round(d.getTime() / 1000);

export function localMidnight(now: Date): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return seconds(d);
}

export function localMonthStart(now: Date): number {
  return seconds(new Date(now.getFullYear(), now.getMonth(), 1));
}

/** The last full hour after midnight that ended at least SETTLE_SECONDS ago (or midnight). */
export function hourAnchor(now: Date): number {
  const midnight = localMidnight(now);
  const settled = seconds(now) - SETTLE_SECONDS - midnight;
  return midnight + Math.max(0, Math.floor(settled / 3600)) * 3600;
}

/** The most pieces a figure has: the month's closed days, today's closed hours, the open one. */
export const MAX_PIECES = 3;

/** The pieces that add up to the figure since ``since``: closed ones first, the open one last. */
export function piecesSince(since: Since, now: Date): Piece[] {
  const midnight = localMidnight(now);
  const anchor = hourAnchor(now);
  const out: Piece[] = [];
  if (since === "month") {
    const monthStart = localMonthStart(now);
    if (midnight > monthStart) out.push({ start: monthStart, end: midnight });
  }
  if (anchor > midnight) out.push({ start: midnight, end: anchor });
  out.push({ start: anchor, end: null });
  return out;
}

/** The range a piece's query reads, in seconds, when asked at ``now``. */
export function pieceRangeSeconds(piece: Piece, now: Date): number {
  if (piece.end !== null) return piece.end - piece.start;
  return Math.max(MIN_OPEN_SECONDS, seconds(now) - piece.start);
}

/** The placeholders of a piece's query (queryPlan.ts: render). */
export function pieceValues(piece: Piece, now: Date): { from: number; range: number; reach: number } {
  const range = pieceRangeSeconds(piece, now);
  return { from: piece.start, range, reach: range + LOOKBACK_SECONDS };
}

/** Whether a closed piece's answer can still change: asked before its last scrape was stored. */
export function pieceSettled(piece: Piece, askedAtMs: number): boolean {
  return piece.end !== null && askedAtMs / 1000 >= piece.end + SETTLE_SECONDS;
}

/**
 * The figure: each series (by its labels) summed over the pieces that have it. A series no
 * piece has stays absent (shown as missing, never as 0); NaN in any piece makes it NaN (null).
 */
export function sumPieces(answers: Sample[][]): Sample[] {
  const sums = new Map<string, Sample>();
  for (const samples of answers) {
    for (const s of samples) {
      const key = seriesKey(s.labels);
      const seen = sums.get(key);
      if (!seen) {
        const { __name__: _name, ...labels } = s.labels;
        sums.set(key, { labels, value: s.value });
      } else {
        seen.value = seen.value === null || s.value === null ? null : seen.value + s.value;
      }
    }
  }
  return [...sums.values()];
}

/** What a panel needs of the pieces' queries: the figure, and a state like one query's. */
export interface PiecesResult {
  data: Sample[] | undefined;
  /** When the open piece last answered: the figure's age. */
  dataUpdatedAt: number;
  errorUpdatedAt: number;
  error: SourceError | null;
}

interface PieceState {
  data: Sample[] | undefined;
  dataUpdatedAt: number;
  errorUpdatedAt: number;
  error: SourceError | null;
}

export function combinePieces(results: PieceState[]): PiecesResult {
  const all = results.every((r) => r.data !== undefined);
  const open = results[results.length - 1];
  const dataUpdatedAt = all && open ? open.dataUpdatedAt : 0;
  // A piece that failed and has no newer answer makes the figure fail (a closed one without an
  // answer leaves a hole no other piece fills).
  const failing = results.find((r) => r.error !== null && (r.data === undefined || r.errorUpdatedAt >= r.dataUpdatedAt));
  return {
    data: all ? sumPieces(results.map((r) => r.data as Sample[])) : undefined,
    dataUpdatedAt,
    errorUpdatedAt: failing ? Math.max(failing.errorUpdatedAt, dataUpdatedAt) : 0,
    error: failing?.error ?? null,
  };
}

// A figure that follows the live request (queryPlan.ts: following): between two asks of the
// open piece it moves by what its counters grew since, read from the live request's answers.
const evaluatedAt = (samples: Sample[]): number | undefined =>
  samples.find((s) => s.labels.q === AT)?.value ?? undefined;

export interface Followed {
  /** The open piece up to the live answer: its own figure plus what grew since. */
  samples: Sample[];
  /** Whether a live answer newer than the open piece's moved it. */
  moved: boolean;
  /** Ask the open piece again: a counter fell (a reset: what it grew since is unknown) or is new. */
  askAgain: boolean;
}

export function followLive(parts: Part[], open: Sample[], live: Sample[] | undefined): Followed {
  const counters = new Set(parts.map((p) => p.counter));
  const isCounter = (s: Sample) => counters.has(s.labels.__name__ ?? "");
  const own = open.filter((s) => !isCounter(s) && s.labels.q !== AT);
  const openAt = evaluatedAt(open);
  const liveAt = live && evaluatedAt(live);
  if (!live || openAt === undefined || liveAt === undefined || liveAt <= openAt) {
    return { samples: own, moved: false, askAgain: false };
  }
  const then = new Map(open.filter(isCounter).map((s) => [seriesKey(s.labels), s.value]));
  const grew: Sample[] = [];
  let askAgain = false;
  for (const s of live.filter(isCounter)) {
    const before = then.get(seriesKey(s.labels));
    if (before === undefined || (s.value !== null && before !== null && s.value < before)) askAgain = true;
    else if (s.value !== null && before !== null) grew.push({ labels: s.labels, value: s.value - before });
  }
  const price = live.find((s) => s.labels.__name__ === PRICE);
  return { samples: sumPieces([own, ...parts.map((p) => partOf(p, grew, price))]), moved: true, askAgain };
}

/** One part's figure of what the counters grew, as its PromQL gives it (queryPlan.ts: partPromql). */
function partOf(p: Part, grew: Sample[], price: Sample | undefined): Sample[] {
  if (p.priced && (price?.value ?? null) === null) return []; // unpriced: no cost, as in PromQL
  const factor = (p.per ? 1 / Number(p.per) : 1) * (p.priced ? (price!.value as number) : 1);
  const extra: Labels = p.priced ? { q: p.q, currency: price!.labels.currency ?? "" } : { q: p.q };
  const sums = new Map<string, Sample>();
  for (const s of grew) {
    if (s.labels.__name__ !== p.counter) continue;
    const { __name__: _name, ...all } = s.labels;
    const labels: Labels = p.by ? Object.fromEntries(p.by.filter((k) => k in all).map((k) => [k, all[k]!])) : all;
    Object.assign(labels, extra);
    const key = seriesKey(labels);
    const seen = sums.get(key);
    if (seen) seen.value = (seen.value as number) + (s.value as number) * factor;
    else sums.set(key, { labels, value: (s.value as number) * factor });
  }
  return [...sums.values()];
}
