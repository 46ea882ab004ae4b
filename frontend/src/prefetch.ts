// Every panel's first request, sent when the script starts instead of when React has rendered
// the panel (on a slow phone that is a second later). The hooks use the same keys and options,
// so they pick up these answers (or the requests still on their way) instead of asking again.
import type { QueryClient } from "@tanstack/react-query";
import type { Status } from "./api/handshake";
import { dailyOptions, instantOptions, rangeOptions, snapshotOptions, statusOptions } from "./queryOptions";
import { lastMidnights, QUERIES } from "./queryPlan";

export function prefetchFirstLoad(client: QueryClient): void {
  // The status first: the snapshot is asked for once it names one (no 404 without a snapshot).
  void client
    .fetchQuery(statusOptions)
    .then((status: Status) => status.last_snapshot)
    .catch(() => "unknown")
    .then((lastSnapshot) => {
      if (lastSnapshot) void client.prefetchQuery(snapshotOptions(lastSnapshot));
    });
  for (const q of Object.values(QUERIES)) {
    if (q.kind === "instant") void client.prefetchQuery(instantOptions(q));
  }
  const { powerHistory, usageDays } = QUERIES;
  void client.prefetchQuery(rangeOptions(client, powerHistory, powerHistory.windowsSeconds[0]));
  void client.prefetchQuery(dailyOptions(usageDays, lastMidnights(new Date(), 7)));
}
