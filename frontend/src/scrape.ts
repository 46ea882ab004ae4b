// Live figures asked when a new reading can exist: just after each scrape, not on a free-running
// timer that mostly gets the same sample again. The scrape interval is learnt from the answers
// (the Pi's Prometheus scrapes every 15 s, a user may change that).
// With .ts extensions: vite.config.ts loads this file for the query plan.
import type { Sample } from "./api/prometheus.ts";

export const DEFAULT_INTERVAL_MS = 15_000;
// From a scrape's start (the samples' timestamp) until its samples are stored: the exporter asks
// the plug meanwhile.
export const SCRAPE_SETTLE_MS = 2000;
// Asked again this soon when the answer still holds the previous scrape (a slow scrape).
export const LATE_SCRAPE_RETRY_MS = 2000;
// Intervals outside this are not a scrape interval (a restart, a clock jump).
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 300_000;
const KEPT_GAPS = 4;

/** When the answer's last scrape was, ms since epoch (its `q="scraped_at"` sample), if it says. */
export function scrapedAtMs(samples: Sample[] | undefined): number | undefined {
  const times = (samples ?? [])
    .filter((s) => s.labels.q === "scraped_at" && s.value !== null)
    .map((s) => (s.value as number) * 1000);
  return times.length ? Math.max(...times) : undefined;
}

/** One live query's view of the scrapes it has seen: when the last was, how far apart they are. */
export class ScrapeClock {
  private last: number | undefined;
  private gaps: number[] = [];

  /** The interval: the smallest gap between the last few scrapes seen (a missed one doubles a gap). */
  get intervalMs(): number {
    return this.gaps.length ? Math.min(...this.gaps) : DEFAULT_INTERVAL_MS;
  }

  /** How long to wait before asking again, given the newest answer: until just after the next scrape. */
  untilNextMs(samples: Sample[] | undefined, nowMs: number): number {
    const scraped = scrapedAtMs(samples);
    if (scraped !== undefined && this.last !== undefined && scraped > this.last) {
      const gap = scraped - this.last;
      if (gap >= MIN_INTERVAL_MS && gap <= MAX_INTERVAL_MS) this.gaps = [...this.gaps, gap].slice(-KEPT_GAPS);
    }
    if (scraped !== undefined) this.last = Math.max(scraped, this.last ?? scraped);
    const interval = this.intervalMs;
    if (this.last === undefined) return interval;
    const due = this.last + interval + SCRAPE_SETTLE_MS - nowMs;
    if (due >= LATE_SCRAPE_RETRY_MS / 2) return Math.min(due, interval + SCRAPE_SETTLE_MS);
    // The next scrape is late: look again soon, but only while scrapes still come at all (a
    // Prometheus that stopped scraping is asked at the plain pace).
    return nowMs - this.last < 3 * interval ? LATE_SCRAPE_RETRY_MS : interval;
  }
}
