// Every panel's first request, sent when the script starts instead of when React has rendered
// the panel (on a slow phone that is a second later). The hooks use the same keys and options,
// so they pick up these answers (or the requests still on their way) instead of asking again.
import type { QueryClient } from "@tanstack/react-query";
import type { Status } from "./api/handshake";
import { dailyOptions, instantOptions, pieceOptions, rangeOptions, snapshotOptions, statusOptions } from "./queryOptions";
import { lastMidnights, QUERIES } from "./queryPlan";
import { piecesSince } from "./since";

/**
 * Starts every first request; the promise settles once the snapshot's has left too (it waits
 * for the status), or the status failed.
 */
export function prefetchFirstLoad(client: QueryClient): Promise<void> {
  // The status first: the snapshot is asked for once it names one (no 404 without a snapshot).
  const snapshotAsked = client
    .fetchQuery(statusOptions)
    .then((status: Status) => status.last_snapshot)
    .catch(() => "unknown")
    .then((lastSnapshot) => {
      if (lastSnapshot) void client.prefetchQuery(snapshotOptions(lastSnapshot));
    });
  for (const q of Object.values(QUERIES)) {
    if (q.kind === "instant") void client.prefetchQuery(instantOptions(q));
    if (q.kind === "since") {
      // The day's pieces are also the month's last ones: one request each.
      const pieces = q.spans.flatMap((span) => piecesSince(span, new Date()));
      const seen = new Set<string>();
      for (const piece of pieces) {
        const key = `${piece.start}-${piece.end}`;
        if (!seen.has(key)) void client.prefetchQuery(pieceOptions(q, piece));
        seen.add(key);
      }
    }
  }
  const { powerHistory, usageDays } = QUERIES;
  void client.prefetchQuery(rangeOptions(client, powerHistory, powerHistory.windowsSeconds[0]));
  void client.prefetchQuery(dailyOptions(usageDays, lastMidnights(new Date(), 7)));
  return snapshotAsked;
}
