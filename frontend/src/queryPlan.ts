// Every query the dashboard sends, by panel: PromQL, how often, and for charts the window.
// The one place to read what an open dashboard costs Prometheus; the benchmarks replay it
// (the build writes it to frontend-dist/query-plan.json).
//
// Placeholders: $step (a range query's step in seconds), $today (seconds since local midnight),
// $month (seconds since local midnight of the month's 1st), both filled in at query time.
// Metrics of one panel come in one request where they can: `{__name__=~"a|b"}` selects several.

export type PanelId = "nas" | "power" | "usage" | "pihole" | "snapshot" | "inbox" | "pi";

export interface InstantQuery {
  id: string;
  panel: PanelId;
  kind: "instant";
  promql: string;
  refreshSeconds: number;
}

export interface RangeQuery {
  id: string;
  panel: PanelId;
  kind: "range";
  promql: string;
  /** Windows a person can choose; the first is shown first. */
  windowsSeconds: number[];
  refreshSeconds: number;
  /** "tail": after the first answer only the new points are asked for (range.ts). */
  refresh: "tail" | "full";
  /** Step fixed by the query's meaning (one point per day) instead of chosen per window. */
  fixedStepSeconds?: number;
  /** From this window on, the query reads a downsampling rule instead of raw samples. */
  downsampled?: { fromWindowSeconds: number; promql: string };
}

export type Query = InstantQuery | RangeQuery;

// Several metrics in one request. With `job`, the job's `up` comes along in the same selector
// (an `or up{...}` would drop it: `or` matches label sets without the name).
const names = (...metrics: string[]): string => `{__name__=~"${metrics.join("|")}"}`;
const ofJob = (job: string, metrics: string[], extra = ""): string =>
  `{__name__=~"${[...metrics, "up"].join("|")}",job="${job}"${extra}}`;

const kwhSince = (range: string): string => `increase(tapo_energy_joules_total[${range}]) / 3.6e6`;
const energySince = (range: string): string =>
  `label_replace(${kwhSince(range)}, "q", "kwh", "", "")` +
  ` or label_replace(${kwhSince(range)} * on() group_left(currency) balupi_energy_price_per_kilowatt_hour, "q", "cost", "", "")`;

export const HOUR = 3600;
export const DAY = 86400;

export const QUERIES = {
  powerNow: {
    id: "power.now",
    panel: "power",
    kind: "instant",
    promql: ofJob("tapo", ["tapo_power_watts", "tapo_up"]),
    refreshSeconds: 5,
  },
  // Energy per plug since local midnight / the 1st, the range chosen by the browser when it asks
  // ($today, $month); cost priced like the rules price it (balupi-usage.rules.yml). "q" names
  // the figure; without a price the cost half is empty.
  powerToday: {
    id: "power.today",
    panel: "power",
    kind: "instant",
    promql: energySince("$todays"),
    // A day's kWh moves by thousandths in a minute; each ask reads up to a day of samples.
    refreshSeconds: 300,
  },
  powerMonth: {
    id: "power.month",
    panel: "power",
    kind: "instant",
    // Up to 31 days of raw samples: asked less often than today's.
    promql: energySince("$months"),
    refreshSeconds: 300,
  },
  powerHistory: {
    id: "power.history",
    panel: "power",
    kind: "range",
    // The average over each step: a 5 min step shows what the NAS drew in those 5 min.
    promql: "avg_over_time(tapo_power_watts[$steps])",
    // 7 and 30 days (steps of 1 h and 3 h) average the 5-minute rule: 12x fewer samples to read.
    downsampled: { fromWindowSeconds: 7 * DAY, promql: "avg_over_time(balupi:tapo_power_watts:avg5m[$steps])" },
    windowsSeconds: [DAY, 7 * DAY, 30 * DAY],
    refreshSeconds: 60,
    refresh: "tail",
  },
  usageToday: {
    id: "usage.today",
    panel: "usage",
    kind: "instant",
    // Since local midnight; the wakes by result and the outages in the same request.
    promql:
      'label_replace(increase(balupi_nas_online_seconds_total[$todays]), "q", "online", "", "")' +
      ' or label_replace(sum by (result) (increase(balupi_nas_wakes_total[$todays])), "q", "wakes", "", "")' +
      ' or label_replace(sum(increase(balupi_nas_takeovers_total[$todays])), "q", "outages", "", "")',
    // Today's summary (hours online, wakes): reads up to a day of samples per ask.
    refreshSeconds: 300,
  },
  usageDays: {
    id: "usage.days",
    panel: "usage",
    kind: "range",
    // Evaluated at each local midnight, the 1d rules give the day that just ended.
    promql: names(
      "balupi:nas_online_seconds:increase1d",
      "balupi:nas_wakes:increase1d",
      "balupi:nas_outages:increase1d",
    ),
    windowsSeconds: [6 * DAY],
    refreshSeconds: 300,
    refresh: "full",
    fixedStepSeconds: DAY,
  },
  usageAverages: {
    id: "usage.averages",
    panel: "usage",
    kind: "instant",
    promql: names("balupi:nas_power_watts:avg_online_1d", "balupi:nas_power_watts:avg_asleep_1d"),
    refreshSeconds: 300,
  },
  pihole: {
    id: "pihole",
    panel: "pihole",
    kind: "instant",
    // The blocked-ratio rule keeps the job label of the series it divides.
    promql: ofJob("pihole", [
      "pihole_up",
      "pihole_dns_queries_today",
      "pihole_ads_blocked_today",
      "balupi:pihole_blocked:ratio",
      "pihole_status",
      "pihole_unique_clients",
      "pihole_clients_ever_seen",
      "pihole_top_ads",
      "pihole_api_sessions",
      "pihole_api_sessions_max",
    ]),
    // Today's counters and clients: slower than the watts, quick enough to show Pi-hole stopping.
    refreshSeconds: 20,
  },
  inbox: {
    id: "inbox",
    panel: "inbox",
    kind: "instant",
    promql: ofJob("handshake", ["balupi_inbox_oldest_file_age_seconds"]),
    // The oldest file's age (minutes to hours); a flush shows through the status at once.
    refreshSeconds: 30,
  },
  node: {
    id: "node",
    panel: "pi",
    kind: "instant",
    // Also the share disk of the inbox panel: the filesystem that holds SHARE_PATH.
    promql: ofJob(
      "node",
      [
        "node_thermal_zone_temp",
        "node_memory_MemTotal_bytes",
        "node_memory_MemAvailable_bytes",
        "node_boot_time_seconds",
        "node_time_seconds",
        "node_filesystem_size_bytes",
        "node_filesystem_avail_bytes",
      ],
      ',fstype!~"tmpfs|ramfs|squashfs|devtmpfs|overlay|nsfs|autofs|fuse.*"',
    ),
    // The Pi's temperature, memory, uptime and disks change over minutes; 20 s still shows
    // Prometheus stopping soon after the power panel does.
    refreshSeconds: 20,
  },
} as const satisfies Record<string, Query>;

/** Non-Prometheus sources, for the record (and the benchmarks' request counts). */
export const OTHER_SOURCES = {
  status: { url: "/api/status", refreshSeconds: 5, wakingRefreshSeconds: 1 },
  snapshot: { url: "/snapshot/snapshot.json", refreshSeconds: 60 },
} as const;

/** Where the share lives on the Pi (samba/balupi-shares.conf). */
export const SHARE_PATH = "/smb/share";
/** Where the history and the snapshot live on the Pi's HDD. */
export const DATA_PATH = "/data";

// A range of at least a minute: increase() needs two samples (scrapes every 15 s), and "[0s]" is
// no valid range. In the first minute after midnight the figure so also holds the seconds before.
const MIN_RANGE_SECONDS = 60;

function secondsSince(start: Date, now: Date): number {
  return Math.max(MIN_RANGE_SECONDS, Math.round((now.getTime() - start.getTime()) / 1000));
}

/** Seconds since the local midnight before ``now`` (a DST day has 23 or 25 hours). */
export function secondsSinceMidnight(now: Date): number {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  return secondsSince(midnight, now);
}

/** Seconds since local midnight of the 1st of ``now``'s month. */
export function secondsSinceMonthStart(now: Date): number {
  return secondsSince(new Date(now.getFullYear(), now.getMonth(), 1), now);
}

/** The PromQL of ``q`` with its placeholders filled in. */
export function render(q: Query, values: { step?: number; now?: Date; windowSeconds?: number } = {}): string {
  let text: string = q.promql;
  if (q.kind === "range" && q.downsampled && values.windowSeconds !== undefined) {
    if (values.windowSeconds >= q.downsampled.fromWindowSeconds) text = q.downsampled.promql;
  }
  if (values.step !== undefined) text = text.replaceAll("$step", String(values.step));
  if (values.now !== undefined) {
    text = text.replaceAll("$today", String(secondsSinceMidnight(values.now)));
    text = text.replaceAll("$month", String(secondsSinceMonthStart(values.now)));
  }
  return text;
}

/** Local midnights: the evaluation times of a per-day query (the last one is today 00:00). */
export function lastMidnights(now: Date, days: number): number[] {
  const out: number[] = [];
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  for (let i = 0; i < days; i++) {
    out.unshift(Math.round(d.getTime() / 1000));
    d.setDate(d.getDate() - 1);
  }
  return out;
}
