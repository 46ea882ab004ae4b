// The usage panel's arithmetic: per-day hours online, wakes and outages over the last 7 days
// (6 full days from the 1d recording rules at local midnights, plus today so far).
import type { Sample } from "../api/prometheus";
import type { RangeData } from "../range";

export interface Day {
  /** Local midnight at the start of the day, ms. */
  startMs: number;
  onlineSeconds: number | null;
  wakes: number;
  failedWakes: number;
  outages: number;
  today: boolean;
}

const FAILED = new Set(["timeout", "send_error"]);

function at(data: RangeData, name: string, t: number, filter?: (l: Record<string, string>) => boolean): number[] {
  return data.series
    .filter((s) => s.labels.__name__ === name && (!filter || filter(s.labels)))
    .flatMap((s) => s.points.filter((p) => p[0] === t).map((p) => p[1] ?? 0));
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function usageDays(days: RangeData | undefined, today: Sample[] | undefined, midnights: number[]): Day[] {
  const out: Day[] = [];
  // A point at midnight M holds the day that ended at M.
  for (let i = 1; i < midnights.length; i++) {
    const m = midnights[i]!;
    const online = days ? at(days, "balupi:nas_online_seconds:increase1d", m) : [];
    out.push({
      startMs: midnights[i - 1]! * 1000,
      onlineSeconds: online.length ? Math.min(86400, sum(online)) : null,
      wakes: days ? Math.round(sum(at(days, "balupi:nas_wakes:increase1d", m))) : 0,
      failedWakes: days ? Math.round(sum(at(days, "balupi:nas_wakes:increase1d", m, (l) => FAILED.has(l.result ?? "")))) : 0,
      outages: days ? Math.round(sum(at(days, "balupi:nas_outages:increase1d", m))) : 0,
      today: false,
    });
  }
  const q = (name: string) => (today ?? []).filter((s) => s.labels.q === name);
  const online = q("online").map((s) => s.value ?? 0);
  out.push({
    startMs: (midnights[midnights.length - 1] ?? 0) * 1000,
    onlineSeconds: online.length ? sum(online) : null,
    wakes: Math.round(sum(q("wakes").map((s) => s.value ?? 0))),
    failedWakes: Math.round(sum(q("wakes").filter((s) => FAILED.has(s.labels.result ?? "")).map((s) => s.value ?? 0))),
    outages: Math.round(sum(q("outages").map((s) => s.value ?? 0))),
    today: true,
  });
  return out;
}
