// The figures since midnight and the 1st (since.ts), cut into pieces in the browser's local
// calendar: here Europe/Berlin, whose DST days have 23 and 25 hours.
process.env.TZ = "Europe/Berlin";

import { describe, expect, it } from "vitest";
import type { Sample } from "../src/api/prometheus";
import { SourceError } from "../src/api/sourceError";
import { DAY, HOUR, QUERIES, render } from "../src/queryPlan";
import {
  combinePieces,
  followLive,
  hourAnchor,
  localMidnight,
  pieceRangeSeconds,
  pieceSettled,
  piecesSince,
  pieceValues,
  sumPieces,
  type Piece,
} from "../src/since";

const at = (utc: string) => new Date(utc);
const unix = (utc: string) => Date.parse(utc) / 1000;

/** What the pieces read in all, asked at ``now``: must be exactly the span since its start. */
function covered(pieces: Piece[], now: Date): { start: number; seconds: number } {
  for (let i = 1; i < pieces.length; i++) expect(pieces[i]!.start).toBe(pieces[i - 1]!.end);
  expect(pieces[pieces.length - 1]!.end).toBeNull();
  return { start: pieces[0]!.start, seconds: pieces.reduce((a, p) => a + pieceRangeSeconds(p, now), 0) };
}

describe("pieces in Europe/Berlin", () => {
  it("runs in Berlin time (else the cases below prove nothing)", () => {
    expect(at("2026-01-15T12:00:00Z").getHours()).toBe(13);
    expect(at("2026-07-15T12:00:00Z").getHours()).toBe(14);
  });

  it("cuts today at the last full hour, from local midnight, not UTC's", () => {
    // 10:30 CET is 09:30 UTC: midnight..10:00 closed, 10:00..now open.
    const now = at("2026-12-01T09:30:00Z");
    const pieces = piecesSince("day", now);
    expect(pieces).toEqual([
      { start: unix("2026-11-30T23:00:00Z"), end: unix("2026-12-01T09:00:00Z") },
      { start: unix("2026-12-01T09:00:00Z"), end: null },
    ]);
    expect(covered(pieces, now).seconds).toBe(10.5 * HOUR);
    // 00:30 CET is still the day before in UTC: one open piece since Berlin's midnight.
    const early = at("2026-12-14T23:30:00Z");
    expect(piecesSince("day", early)).toEqual([{ start: unix("2026-12-14T23:00:00Z"), end: null }]);
  });

  it("closes an hour only once its last scrape is stored (a minute after it ends)", () => {
    expect(hourAnchor(at("2026-12-01T09:00:30Z"))).toBe(unix("2026-12-01T08:00:00Z"));
    expect(hourAnchor(at("2026-12-01T09:01:00Z"))).toBe(unix("2026-12-01T09:00:00Z"));
  });

  it("adds the month's closed days as one piece before today's", () => {
    const now = at("2026-12-15T11:00:00Z"); // 12:00 CET on the 15th
    const pieces = piecesSince("month", now);
    expect(pieces[0]).toEqual({ start: unix("2026-11-30T23:00:00Z"), end: unix("2026-12-14T23:00:00Z") });
    // Today's pieces are the month's last ones: the same requests serve both figures.
    expect(pieces.slice(1)).toEqual(piecesSince("day", now));
    expect(covered(pieces, now).seconds).toBe(14 * DAY + 12 * HOUR);
    // On the 1st the month is today.
    const first = at("2026-12-01T09:30:00Z");
    expect(piecesSince("month", first)).toEqual(piecesSince("day", first));
    // 00:30 on 1 January (CET) is 31 December in UTC: a new month and year already.
    expect(piecesSince("month", at("2026-12-31T23:30:00Z"))).toEqual([{ start: unix("2026-12-31T23:00:00Z"), end: null }]);
  });

  it("gives the DST days their 23 and 25 hours", () => {
    // 29 March 2026: clocks jump 02:00 -> 03:00; 12:00 CEST is 11 h after midnight.
    const spring = at("2026-03-29T10:00:00Z");
    expect(covered(piecesSince("day", spring), spring).seconds).toBe(11 * HOUR);
    expect(covered(piecesSince("month", spring), spring).seconds).toBe(28 * DAY + 11 * HOUR);
    const late = at("2026-03-29T21:59:00Z");
    expect(covered(piecesSince("day", late), late).seconds).toBe(23 * HOUR - 60);
    // 25 October 2026: 03:00 -> 02:00; 12:00 CET is 13 h after midnight.
    const autumn = at("2026-10-25T11:00:00Z");
    expect(covered(piecesSince("day", autumn), autumn).seconds).toBe(13 * HOUR);
    const endOfMonth = at("2026-10-31T11:00:00Z");
    expect(covered(piecesSince("month", endOfMonth), endOfMonth)).toEqual({
      start: unix("2026-09-30T22:00:00Z"),
      seconds: 30 * DAY + 13 * HOUR,
    });
  });

  it("asks the open piece for at least a minute right after midnight", () => {
    const midnight = at("2026-12-14T23:00:00Z");
    expect(localMidnight(midnight)).toBe(unix("2026-12-14T23:00:00Z"));
    const [open] = piecesSince("day", at("2026-12-14T23:00:20Z"));
    expect(pieceRangeSeconds(open!, at("2026-12-14T23:00:20Z"))).toBe(60);
    expect(pieceRangeSeconds(open!, at("2026-12-14T23:01:30Z"))).toBe(90);
  });

  it("asks a closed piece again until it was asked a minute after its end", () => {
    const piece = { start: 0, end: 1000 };
    expect(pieceSettled(piece, 1030_000)).toBe(false);
    expect(pieceSettled(piece, 1060_000)).toBe(true);
    expect(pieceSettled({ start: 0, end: null }, 9e12)).toBe(false);
  });
});

const sample = (labels: Record<string, string>, value: number | null): Sample => ({ labels, value });

describe("summing the pieces", () => {
  it("adds each series over the pieces that have it, without the metric name", () => {
    const a = [sample({ q: "kwh", plug: "nas" }, 1.5), sample({ q: "kwh", plug: "tv" }, 0.25)];
    const b = [sample({ q: "kwh", plug: "nas" }, 0.5), sample({ __name__: "x", q: "cost", plug: "nas" }, 0.1)];
    expect(sumPieces([a, b])).toEqual([
      sample({ q: "kwh", plug: "nas" }, 2),
      sample({ q: "kwh", plug: "tv" }, 0.25),
      sample({ q: "cost", plug: "nas" }, 0.1),
    ]);
  });

  it("keeps a series no piece has absent, and NaN in a piece as NaN", () => {
    expect(sumPieces([[], []])).toEqual([]);
    const nan = sumPieces([[sample({ plug: "nas" }, 1)], [sample({ plug: "nas" }, null)]]);
    expect(nan).toEqual([sample({ plug: "nas" }, null)]);
  });

  const ok = (data: Sample[], t: number) => ({ data, dataUpdatedAt: t, errorUpdatedAt: 0, error: null });

  it("is as old as its open piece and waits for every piece", () => {
    const closed = ok([sample({ plug: "nas" }, 1)], 1000);
    const open = ok([sample({ plug: "nas" }, 2)], 5000);
    expect(combinePieces([closed, open])).toMatchObject({ dataUpdatedAt: 5000, error: null });
    expect(combinePieces([closed, open]).data).toEqual([sample({ plug: "nas" }, 3)]);
    const waiting = combinePieces([{ ...closed, data: undefined, dataUpdatedAt: 0 }, open]);
    expect(waiting).toMatchObject({ data: undefined, dataUpdatedAt: 0, error: null });
  });

  it("fails when a piece failed without an answer, even if the open one answers later", () => {
    const down = new SourceError("unreachable", "HTTP 502", 502);
    const failed = { data: undefined, dataUpdatedAt: 0, errorUpdatedAt: 1000, error: down };
    const result = combinePieces([failed, ok([], 5000)]);
    expect(result.error).toBe(down);
    // As sourceState reads it: failing when the error is no older than the data.
    expect(result.errorUpdatedAt).toBeGreaterThanOrEqual(result.dataUpdatedAt);
    // A failed refresh of a piece that still has its answer keeps the figure, marked failing.
    const refreshFailed = { ...ok([sample({}, 1)], 1000), errorUpdatedAt: 2000, error: down };
    expect(combinePieces([ok([], 500), refreshFailed])).toMatchObject({ error: down, errorUpdatedAt: 2000 });
  });
});

describe("a figure that follows the live request", () => {
  const { parts } = QUERIES.powerEnergy.follow;
  const joules = (plug: string, value: number): Sample => ({
    labels: { __name__: "tapo_energy_joules_total", job: "tapo", plug },
    value,
  });
  const evaluated = (t: number): Sample => ({ labels: { q: "evaluated_at" }, value: t });
  const price: Sample = { labels: { __name__: "balupi_energy_price_per_kilowatt_hour", job: "tapo", currency: "EUR" }, value: 0.32 };
  // The open piece's answer: its own figure, the counters at its evaluation time, that time.
  const open: Sample[] = [
    { labels: { job: "tapo", plug: "nas", q: "kwh" }, value: 0.04 },
    { labels: { job: "tapo", plug: "nas", q: "cost", currency: "EUR" }, value: 0.0128 },
    joules("nas", 5_000_000),
    evaluated(1000),
  ];
  const value = (samples: Sample[], q: string) => samples.find((s) => s.labels.q === q)?.value;

  it("adds what the counters grew since the open piece was asked, as the figure's PromQL would", () => {
    // 36 kJ = 0.01 kWh, at 0.32 EUR: 0.0032 EUR.
    const live = [{ labels: { __name__: "tapo_power_watts", plug: "nas" }, value: 40 }, joules("nas", 5_036_000), price, evaluated(1015)];
    const f = followLive(parts, open, live);
    expect(f).toMatchObject({ moved: true, askAgain: false });
    expect(value(f.samples, "kwh")).toBeCloseTo(0.05, 9);
    expect(value(f.samples, "cost")).toBeCloseTo(0.016, 9);
    // Only the figure's own series, labelled as the pieces' answers: no counter, no time.
    expect(f.samples.map((s) => s.labels).sort((a, b) => (a.q ?? "").localeCompare(b.q ?? ""))).toEqual([
      { job: "tapo", plug: "nas", q: "cost", currency: "EUR" },
      { job: "tapo", plug: "nas", q: "kwh" },
    ]);
  });

  it("has no cost to add without a price, as the PromQL has none", () => {
    const f = followLive(parts, open.slice(0, 1).concat(open.slice(2)), [joules("nas", 5_036_000), evaluated(1015)]);
    expect(value(f.samples, "kwh")).toBeCloseTo(0.05, 9);
    expect(value(f.samples, "cost")).toBeUndefined();
  });

  it("sums by the part's labels: the wakes by result, the outages in one", () => {
    const usage = QUERIES.usageToday.follow.parts;
    const wakes = (result: string, instance: string, v: number): Sample => ({
      labels: { __name__: "balupi_nas_wakes_total", instance, job: "handshake", result },
      value: v,
    });
    const outages = (v: number): Sample => ({ labels: { __name__: "balupi_nas_takeovers_total", job: "handshake" }, value: v });
    const before = [wakes("ok", "a", 3), wakes("ok", "b", 1), wakes("timeout", "a", 0), outages(2), evaluated(1000)];
    const after = [wakes("ok", "a", 4), wakes("ok", "b", 2), wakes("timeout", "a", 1), outages(3), evaluated(1015)];
    const f = followLive(usage, before, after);
    expect(f.samples).toEqual(
      expect.arrayContaining([
        { labels: { result: "ok", q: "wakes" }, value: 2 },
        { labels: { result: "timeout", q: "wakes" }, value: 1 },
        { labels: { q: "outages" }, value: 1 },
      ]),
    );
    expect(f.samples).toHaveLength(3);
  });

  it("leaves the open piece as it is when the live answer is not newer, or has no time", () => {
    const older = [joules("nas", 4_000_000), evaluated(990)];
    expect(followLive(parts, open, older)).toMatchObject({ moved: false, askAgain: false });
    expect(value(followLive(parts, open, older).samples, "kwh")).toBe(0.04);
    expect(followLive(parts, open, [joules("nas", 9_000_000)]).moved).toBe(false);
    expect(followLive(parts, open, undefined).samples).toHaveLength(2);
  });

  it("asks the open piece again after a counter reset or for a new series, and adds nothing for them", () => {
    const reset = followLive(parts, open, [joules("nas", 3600), price, evaluated(1030)]);
    expect(reset.askAgain).toBe(true);
    expect(value(reset.samples, "kwh")).toBe(0.04);
    const newPlug = followLive(parts, open, [joules("nas", 5_036_000), joules("pi", 10), price, evaluated(1030)]);
    expect(newPlug.askAgain).toBe(true);
    expect(value(newPlug.samples, "kwh")).toBeCloseTo(0.05, 9);
  });

  it("keeps a series the live answer lacks (the plug missed a scrape) at the open piece's value", () => {
    const f = followLive(parts, open, [price, evaluated(1015)]);
    expect(f).toMatchObject({ moved: true, askAgain: false });
    expect(value(f.samples, "kwh")).toBe(0.04);
  });

  it("finds its counters in the live request, and the open piece answers them with its time", () => {
    for (const q of [QUERIES.powerEnergy, QUERIES.usageToday]) {
      for (const part of q.follow.parts) {
        expect(QUERIES.live.promql).toContain(part.counter);
        expect(q.follow.open).toContain(part.counter);
      }
      expect(q.follow.open).toContain('"evaluated_at"');
      expect(q.follow.open.startsWith(q.promql)).toBe(true);
    }
    expect(QUERIES.live.promql).toContain('"evaluated_at"');
    expect(QUERIES.live.promql).toContain("balupi_energy_price_per_kilowatt_hour");
  });
});

describe("the Power panel's queries", () => {
  it("fill a piece in at query time: the counter now minus at the piece's start", () => {
    const now = at("2026-12-15T11:00:00Z");
    const [days] = piecesSince("month", now);
    const piece = render(QUERIES.powerEnergy, { piece: pieceValues(days!, now) });
    const start = unix("2026-11-30T23:00:00Z");
    expect(piece).toContain(`tapo_energy_joules_total - tapo_energy_joules_total @ ${start}`);
    expect(piece).toContain(`resets(tapo_energy_joules_total[${14 * DAY + 300}s]) == 0`);
    expect(piece).toContain(`increase(tapo_energy_joules_total[${14 * DAY}s])`);
    expect(piece).toContain("balupi_energy_price_per_kilowatt_hour");
    expect(piece).not.toContain("$");
    const usage = render(QUERIES.usageToday, { piece: { from: start, range: 3600, reach: 3900 } });
    expect(usage).not.toContain("$");
  });

  it("chart 24 h from raw samples and 7 / 30 days from the 5-minute rule", () => {
    const q = QUERIES.powerHistory;
    expect(render(q, { step: 300, windowSeconds: DAY })).toBe("avg_over_time(tapo_power_watts[300s])");
    expect(render(q, { step: 3600, windowSeconds: 7 * DAY })).toBe(
      "avg_over_time(balupi:tapo_power_watts:avg5m[3600s])",
    );
    expect(render(q, { step: 10800, windowSeconds: 30 * DAY })).toBe(
      "avg_over_time(balupi:tapo_power_watts:avg5m[10800s])",
    );
  });
});
