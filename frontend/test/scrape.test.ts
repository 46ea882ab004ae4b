// The live watts are asked just after each scrape (scrape.ts), not on a free-running timer.
import { describe, expect, it } from "vitest";
import type { Sample } from "../src/api/prometheus";
import { LATE_SCRAPE_RETRY_MS, SCRAPE_SETTLE_MS, scrapedAtMs, untilNextScrapeMs } from "../src/scrape";

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

  it("waits until just after the next scrape", () => {
    // Scraped at t=1000 s, asked at 1001 s: the next scrape is at 1015 s, stored by ~1017 s.
    expect(untilNextScrapeMs(scraped(1000), 1_001_000)).toBe(14_000 + SCRAPE_SETTLE_MS);
    expect(untilNextScrapeMs(scraped(1000), 1_010_000)).toBe(5_000 + SCRAPE_SETTLE_MS);
  });

  it("looks again soon when the next scrape is late, and at the plain pace when scrapes stop", () => {
    expect(untilNextScrapeMs(scraped(1000), 1_017_500)).toBe(LATE_SCRAPE_RETRY_MS);
    expect(untilNextScrapeMs(scraped(1000), 1_040_000)).toBe(LATE_SCRAPE_RETRY_MS);
    expect(untilNextScrapeMs(scraped(1000), 1_050_000)).toBe(15_000);
    // No scrape time in the answer (an older Prometheus, an error): the plain pace.
    expect(untilNextScrapeMs([], 5)).toBe(15_000);
  });

  it("never waits longer than one interval, whatever the clocks say", () => {
    // The browser's clock 30 s behind Prometheus's.
    expect(untilNextScrapeMs(scraped(1000), 970_000)).toBe(15_000 + SCRAPE_SETTLE_MS);
  });
});
