// Range charts: a step that keeps a window under a few hundred points, aligned to the step so
// refreshes land on the same grid, and an incremental refresh that asks only for the tail.
import type { Point, Series } from "./api/prometheus";

export const MAX_POINTS = 300;
export const SCRAPE_INTERVAL_SECONDS = 15;
// Steps a person reads easily on a time axis, in seconds.
export const NICE_STEPS = [
  15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
] as const;

/** The smallest nice step (never below the scrape interval) with at most MAX_POINTS points. */
export function chooseStep(windowSeconds: number, maxPoints = MAX_POINTS): number {
  const wanted = Math.max(SCRAPE_INTERVAL_SECONDS, windowSeconds / maxPoints);
  for (const step of NICE_STEPS) if (step >= wanted) return step;
  return Math.ceil(wanted / 86400) * 86400;
}

export function alignDown(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

export function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

export function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

export interface RangeData {
  step: number;
  windowSeconds: number;
  series: Series[];
  /** The newest evaluation time asked for so far; the next refresh starts here. */
  end: number;
}

/** What to ask Prometheus next: the whole window first, then only the tail since ``end``. */
export function nextRequest(
  previous: RangeData | undefined,
  windowSeconds: number,
  nowSeconds: number,
): { start: number; end: number; step: number; full: boolean } {
  const step = chooseStep(windowSeconds);
  // The grid's next point: the bucket that is filling now, averaged over what it has so far
  // (with a 3 h step, the last hours would otherwise be missing until the bucket closes).
  const end = alignUp(nowSeconds, step);
  if (!previous || previous.step !== step || previous.windowSeconds !== windowSeconds) {
    return { start: end - windowSeconds, end, step, full: true };
  }
  // The last point is asked again: its bucket was still filling when it was evaluated.
  const start = Math.min(previous.end, end);
  return { start, end, step, full: false };
}

function mergePoints(old: Point[], fresh: Point[], cutoff: number): Point[] {
  const map = new Map<number, Point>();
  for (const p of old) if (p[0] >= cutoff) map.set(p[0], p);
  for (const p of fresh) if (p[0] >= cutoff) map.set(p[0], p);
  return [...map.values()].sort((a, b) => a[0] - b[0]);
}

/**
 * The window after a refresh: fresh points replace old ones at the same time, points that fell
 * out of the window are dropped, and a series with no point left disappears. ``fresh`` covers
 * [start, end]: a series without points there keeps its older ones.
 */
export function mergeRange(
  previous: RangeData | undefined,
  fresh: Series[],
  req: { start: number; end: number; step: number; full: boolean },
  windowSeconds: number,
): RangeData {
  const cutoff = req.end - windowSeconds;
  const merged = new Map<string, Series>();
  if (previous && !req.full) {
    for (const s of previous.series) merged.set(seriesKey(s.labels), s);
  }
  for (const s of fresh) {
    const key = seriesKey(s.labels);
    const old = merged.get(key);
    merged.set(key, { labels: s.labels, points: mergePoints(old?.points ?? [], s.points, cutoff) });
  }
  const series = [...merged.values()]
    .map((s) => ({ labels: s.labels, points: s.points.filter((p) => p[0] >= cutoff) }))
    .filter((s) => s.points.length > 0)
    .sort((a, b) => seriesKey(a.labels).localeCompare(seriesKey(b.labels)));
  return { step: req.step, windowSeconds, series, end: req.end };
}

/**
 * uPlot's columns: one shared time axis on the step grid, and per series a value or null (a
 * gap: missing is drawn as missing, never as 0).
 */
export function toColumns(data: RangeData): [number[], ...(number | null)[][]] {
  const start = data.end - data.windowSeconds;
  const times: number[] = [];
  for (let t = start; t <= data.end; t += data.step) times.push(t);
  const columns = data.series.map((s) => {
    const at = new Map(s.points.map((p) => [p[0], p[1]]));
    return times.map((t) => {
      const v = at.get(t);
      return v === undefined || v === null || !Number.isFinite(v) ? null : v;
    });
  });
  return [times, ...columns];
}
