// The live request is asked just after each scrape (scrape.ts), not on a free-running timer.
import { describe, expect, it } from "vitest";
import type { Sample } from "../src/api/prometheus";
import { LATE_SCRAPE_RETRY_MS, SCRAPE_SETTLE_MS, ScrapeClock, scrapedAtMs } from "../src/scrape";

const scraped = (seconds: number): Sample[] => [
  { labels: { __name__: "tapo_power_watts", plug: "nas" }, value: 40 },
  { labels: { job: "tapo", instance: "a", q: "scraped_at" }, value: seconds },
];

describe("asking after each scrape", () => {
  it("reads the last scrape's time from the answer", () => {
    expect(scrapedAtMs(scraped(1000))).toBe(1_000_000);
    expect(scrapedAtMs([...scraped(1000), { labels: { q: "scraped_at", instance: "b" }, value: 1003 }])).toBe(1_003_000);
    expect(scrapedAtMs([])).toBeUndefined();
    expect(scrapedAtMs(undefined)).toBeUndefined();
  });

  it("waits until just after the next scrape, 15 s apart until it has seen two", () => {
    const clock = new ScrapeClock();
    // Scraped at t=1000 s, asked at 1001 s: the next scrape is at 1015 s, stored by ~1017 s.
    expect(clock.untilNextMs(scraped(1000), 1_001_000)).toBe(14_000 + SCRAPE_SETTLE_MS);
    expect(clock.untilNextMs(scraped(1000), 1_010_000)).toBe(5_000 + SCRAPE_SETTLE_MS);
  });

  it("learns the interval Prometheus really scrapes at", () => {
    const every30 = new ScrapeClock();
    every30.untilNextMs(scraped(1000), 1_001_000);
    every30.untilNextMs(scraped(1000), 1_017_000); // asked too early: the same scrape
    every30.untilNextMs(scraped(1030), 1_031_000);
    expect(every30.intervalMs).toBe(30_000);
    expect(every30.untilNextMs(scraped(1030), 1_031_000)).toBe(29_000 + SCRAPE_SETTLE_MS);
    // A missed scrape (asked late) doubles one gap; the smallest recent gap is the interval.
    const every5 = new ScrapeClock();
    for (const [t, asked] of [[100, 101], [105, 106], [115, 116], [120, 121]]) every5.untilNextMs(scraped(t!), asked! * 1000);
    expect(every5.intervalMs).toBe(5_000);
    expect(every5.untilNextMs(scraped(120), 121_000)).toBe(4_000 + SCRAPE_SETTLE_MS);
  });

  it("looks again soon when the next scrape is late, and at the plain pace when scrapes stop", () => {
    const clock = new ScrapeClock();
    clock.untilNextMs(scraped(1000), 1_001_000);
    expect(clock.untilNextMs(scraped(1000), 1_017_500)).toBe(LATE_SCRAPE_RETRY_MS);
    expect(clock.untilNextMs(scraped(1000), 1_040_000)).toBe(LATE_SCRAPE_RETRY_MS);
    expect(clock.untilNextMs(scraped(1000), 1_050_000)).toBe(15_000);
    // No scrape time in the answer (an error): the plain pace.
    expect(new ScrapeClock().untilNextMs([], 5)).toBe(15_000);
  });

  it("never waits longer than one interval, whatever the clocks say", () => {
    // The browser's clock 30 s behind Prometheus's.
    expect(new ScrapeClock().untilNextMs(scraped(1000), 970_000)).toBe(15_000 + SCRAPE_SETTLE_MS);
  });

  it("ignores gaps that are no scrape interval (a restart, a clock jump)", () => {
    const clock = new ScrapeClock();
    clock.untilNextMs(scraped(1000), 1_001_000);
    clock.untilNextMs(scraped(2000), 2_001_000); // 1000 s: Prometheus was down
    clock.untilNextMs(scraped(2000.5), 2_001_000); // 0.5 s: not an interval
    expect(clock.intervalMs).toBe(15_000);
  });
});
