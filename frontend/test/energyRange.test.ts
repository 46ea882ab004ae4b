// The ranges of "today" and "this month" the Power panel asks Prometheus for, in the browser's
// local calendar: here Europe/Berlin, whose DST days have 23 and 25 hours.
process.env.TZ = "Europe/Berlin";

import { describe, expect, it } from "vitest";
import { DAY, HOUR, QUERIES, render, secondsSinceMidnight, secondsSinceMonthStart } from "../src/queryPlan";

const at = (utc: string) => new Date(utc);

describe("energy ranges in Europe/Berlin", () => {
  it("runs in Berlin time (else the cases below prove nothing)", () => {
    expect(at("2026-01-15T12:00:00Z").getHours()).toBe(13);
    expect(at("2026-07-15T12:00:00Z").getHours()).toBe(14);
  });

  it("counts today from local midnight, not UTC's", () => {
    // 10:30 CET is 09:30 UTC: 10.5 h since Berlin's midnight.
    expect(secondsSinceMidnight(at("2026-12-01T09:30:00Z"))).toBe(10.5 * HOUR);
    // 00:30 CET is still the day before in UTC.
    expect(secondsSinceMidnight(at("2026-12-14T23:30:00Z"))).toBe(0.5 * HOUR);
  });

  it("counts the month from local midnight of the 1st", () => {
    expect(secondsSinceMonthStart(at("2026-12-15T11:00:00Z"))).toBe(14 * DAY + 12 * HOUR);
    // On the 1st, month and today are the same range.
    const first = at("2026-12-01T09:30:00Z");
    expect(secondsSinceMonthStart(first)).toBe(secondsSinceMidnight(first));
    // 00:30 on 1 January (CET) is 31 December in UTC: a new month and year already.
    expect(secondsSinceMonthStart(at("2026-12-31T23:30:00Z"))).toBe(0.5 * HOUR);
  });

  it("gives the DST days their 23 and 25 hours", () => {
    // 29 March 2026: clocks jump 02:00 -> 03:00; 12:00 CEST is 11 h after midnight.
    expect(secondsSinceMidnight(at("2026-03-29T10:00:00Z"))).toBe(11 * HOUR);
    expect(secondsSinceMidnight(at("2026-03-29T21:59:00Z"))).toBe(23 * HOUR - 60);
    expect(secondsSinceMonthStart(at("2026-03-29T10:00:00Z"))).toBe(28 * DAY + 11 * HOUR);
    // 25 October 2026: 03:00 -> 02:00; 12:00 CET is 13 h after midnight.
    expect(secondsSinceMidnight(at("2026-10-25T11:00:00Z"))).toBe(13 * HOUR);
    expect(secondsSinceMonthStart(at("2026-10-31T11:00:00Z"))).toBe(30 * DAY + 13 * HOUR);
  });

  it("asks for at least a minute right after midnight, then the exact seconds", () => {
    expect(secondsSinceMidnight(at("2026-12-14T23:00:00Z"))).toBe(60); // 00:00:00
    expect(secondsSinceMidnight(at("2026-12-14T23:00:20Z"))).toBe(60);
    expect(secondsSinceMidnight(at("2026-12-14T23:01:30Z"))).toBe(90);
    expect(secondsSinceMonthStart(at("2026-11-30T23:00:20Z"))).toBe(60); // 1 Dec, 00:00:20
  });
});

describe("the Power panel's queries", () => {
  it("fill today's and the month's ranges in at query time", () => {
    const now = at("2026-12-15T11:00:00Z");
    const today = render(QUERIES.powerToday, { now });
    expect(today).toContain("increase(tapo_energy_joules_total[43200s])");
    expect(today).toContain("balupi_energy_price_per_kilowatt_hour");
    expect(today).not.toContain("$");
    const month = render(QUERIES.powerMonth, { now });
    expect(month).toContain(`increase(tapo_energy_joules_total[${14 * DAY + 12 * HOUR}s])`);
    expect(month).not.toContain("$");
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
