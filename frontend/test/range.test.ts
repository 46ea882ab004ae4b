import { describe, expect, it } from "vitest";
import type { Series } from "../src/api/prometheus";
import { chooseStep, MAX_POINTS, mergeRange, nextRequest, toColumns } from "../src/range";

const DAY = 86400;

describe("step choice", () => {
  it("keeps each chart window under a few hundred points on a readable step", () => {
    expect(chooseStep(DAY)).toBe(300);
    expect(chooseStep(7 * DAY)).toBe(3600);
    expect(chooseStep(30 * DAY)).toBe(10800);
    for (const w of [3600, DAY, 7 * DAY, 30 * DAY, 90 * DAY]) {
      expect(w / chooseStep(w)).toBeLessThanOrEqual(MAX_POINTS);
    }
  });

  it("never asks for a step below the scrape interval", () => {
    expect(chooseStep(600)).toBe(15);
  });
});

const s = (plug: string, points: [number, number | null][]): Series => ({ labels: { plug }, points });

describe("incremental refresh", () => {
  it("asks for the whole window first, then only the tail from the last point", () => {
    const now = 1_000_000;
    const first = nextRequest(undefined, DAY, now);
    // The last point is the bucket filling now (1_000_200 covers 999_900..now).
    expect(first).toMatchObject({ full: true, step: 300, end: 1_000_200, start: 1_000_200 - DAY });
    const data = mergeRange(undefined, [s("nas", [[999_900, 30], [1_000_200, 31]])], first, DAY);
    const later = nextRequest(data, DAY, now + 400);
    expect(later).toEqual({ full: false, step: 300, start: 1_000_200, end: 1_000_500 });
    // A window change is a new chart: whole window again.
    expect(nextRequest(data, 7 * DAY, now + 400).full).toBe(true);
  });

  it("appends the tail, replaces the re-asked point and drops what fell out of the window", () => {
    const window = 900;
    const first = { start: 0, end: 900, step: 300, full: true };
    let data = mergeRange(undefined, [s("nas", [[0, 1], [300, 2], [600, 3], [900, 4]])], first, window);
    const tail = { start: 900, end: 1200, step: 300, full: false };
    data = mergeRange(data, [s("nas", [[900, 4.5], [1200, 5]])], tail, window);
    expect(data.series[0]?.points).toEqual([[300, 2], [600, 3], [900, 4.5], [1200, 5]]);
    expect(data.end).toBe(1200);
  });

  it("keeps a series that had no point in the tail, and adds a plug that appears", () => {
    const first = { start: 0, end: 600, step: 300, full: true };
    let data = mergeRange(undefined, [s("nas", [[300, 2], [600, 3]])], first, 600);
    data = mergeRange(data, [s("tv", [[900, 80]])], { start: 600, end: 900, step: 300, full: false }, 600);
    expect(data.series.map((x) => [x.labels.plug, x.points.length])).toEqual([
      ["nas", 2],
      ["tv", 1],
    ]);
  });

  it("draws a missing reading as a gap (null), never as 0", () => {
    const data = mergeRange(undefined, [s("nas", [[0, 1], [600, null]])], { start: 0, end: 900, step: 300, full: true }, 900);
    expect(toColumns(data)).toEqual([
      [0, 300, 600, 900],
      [1, null, null, null],
    ]);
  });
});
