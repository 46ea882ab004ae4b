// How often each source is asked again: at its own pace, but soon after a failure (a figure
// refreshed every 5 minutes must not say "not answering" for 5 minutes).
import { describe, expect, it } from "vitest";
import { everyOrSooner, pieceOptions, RETRY_AFTER_FAILURE_MS } from "../src/queryOptions";
import { QUERIES } from "../src/queryPlan";

const answered = (at: number) => ({ state: { dataUpdatedAt: at, errorUpdatedAt: 0 } });
const failed = (dataAt: number, errorAt: number) => ({ state: { dataUpdatedAt: dataAt, errorUpdatedAt: errorAt } });

describe("asking again", () => {
  it("keeps a source's own pace while it answers, and retries sooner after it failed", () => {
    const every5min = everyOrSooner(300_000);
    expect(every5min(answered(1000))).toBe(300_000);
    expect(every5min(failed(0, 1000))).toBe(RETRY_AFTER_FAILURE_MS);
    expect(every5min(failed(1000, 2000))).toBe(RETRY_AFTER_FAILURE_MS);
    // Answered again after the failure: back to its pace.
    expect(every5min(failed(3000, 2000))).toBe(300_000);
    // A pace faster than the retry stays.
    expect(everyOrSooner(5000)(failed(0, 1000))).toBe(5000);
  });

  it("asks a closed piece again only until it has a settled answer, and soon if it failed", () => {
    const q = QUERIES.powerEnergy;
    const closed = pieceOptions(q, { start: 0, end: 1000 });
    const interval = closed.refetchInterval as (query: ReturnType<typeof answered>) => number | false;
    expect(interval(answered(1_060_000))).toBe(false); // asked a minute after its end: settled
    expect(interval(answered(1_030_000))).toBe(q.refreshSeconds * 1000); // too early: again
    expect(interval(failed(0, 1_060_000))).toBe(RETRY_AFTER_FAILURE_MS);
  });

  it("asks the open piece of a figure that follows the live request once, and soon if it failed", () => {
    const q = QUERIES.powerEnergy;
    expect(q.follow).toBeDefined();
    const open = pieceOptions(q, { start: 0, end: null });
    const openInterval = open.refetchInterval as (query: ReturnType<typeof answered>) => number | false;
    expect(openInterval(answered(5000))).toBe(false);
    expect(openInterval(failed(5000, 6000))).toBe(RETRY_AFTER_FAILURE_MS);
    expect(open.refetchOnMount).toBe(false);
  });
});
