// Live figures asked when a new reading can exist: just after each scrape, not on a free-running
// timer that mostly gets the same sample again (Prometheus scrapes every 15 s).
// With .ts extensions: vite.config.ts loads this file for the query plan.
import type { Sample } from "./api/prometheus.ts";
import { SCRAPE_INTERVAL_SECONDS } from "./range.ts";

// From a scrape's start (the samples' timestamp) until its samples are stored: the exporter asks
// the plug meanwhile.
export const SCRAPE_SETTLE_MS = 2000;
// Asked again this soon when the answer still holds the previous scrape (a slow scrape).
export const LATE_SCRAPE_RETRY_MS = 2000;

/** When the answer's last scrape was, ms since epoch (its `q="scraped_at"` sample), if it says. */
export function scrapedAtMs(samples: Sample[] | undefined): number | undefined {
  const times = (samples ?? [])
    .filter((s) => s.labels.q === "scraped_at" && s.value !== null)
    .map((s) => (s.value as number) * 1000);
  return times.length ? Math.max(...times) : undefined;
}

/** How long to wait before asking again: until just after the next scrape. */
export function untilNextScrapeMs(samples: Sample[] | undefined, nowMs: number): number {
  const interval = SCRAPE_INTERVAL_SECONDS * 1000;
  const last = scrapedAtMs(samples);
  if (last === undefined) return interval;
  const due = last + interval + SCRAPE_SETTLE_MS - nowMs;
  if (due >= LATE_SCRAPE_RETRY_MS / 2) return Math.min(due, interval + SCRAPE_SETTLE_MS);
  // The next scrape is late: look again soon, but only while scrapes still come at all (a
  // Prometheus that stopped scraping is asked at the plain pace).
  return nowMs - last < 3 * interval ? LATE_SCRAPE_RETRY_MS : interval;
}
