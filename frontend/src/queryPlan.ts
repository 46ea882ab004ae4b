// Every query the dashboard sends, by panel: PromQL, how often, and for charts the window.
// The one place to read what an open dashboard costs Prometheus; the benchmarks replay it
// (the build writes it to frontend-dist/query-plan.json).
//
// Placeholders: $step (a range query's step in seconds); for a "since" figure's piece (since.ts)
// $from (its start, unix seconds), $range (its length in seconds) and $reach ($range plus the
// 5-minute lookback of `@ $from`); filled in at query time.
// Metrics of one panel come in one request where they can: `{__name__=~"a|b"}` selects several.

import type { Since } from "./since";

export type PanelId = "nas" | "power" | "usage" | "pihole" | "snapshot" | "inbox" | "pi";

export interface InstantQuery {
  id: string;
  panel: PanelId | PanelId[];
  kind: "instant";
  promql: string;
  refreshSeconds: number;
  /**
   * Asked again just after each scrape instead of every ``refreshSeconds`` (scrape.ts): the
   * answer's `q="scraped_at"` sample says when the last one was.
   */
  followsScrape?: boolean;
}

export interface RangeQuery {
  id: string;
  panel: PanelId;
  kind: "range";
  promql: string;
  /** Windows a person can choose; the first is shown first. */
  windowsSeconds: number[];
  refreshSeconds: number;
  /**
   * "tail": after the first answer only the new points are asked for (range.ts); "daily": the
   * points are past days, asked once a day (queryOptions.ts: dailyOptions); "full": every time.
   */
  refresh: "tail" | "daily" | "full";
  /** Step fixed by the query's meaning (one point per day) instead of chosen per window. */
  fixedStepSeconds?: number;
  /** From this window on, the query reads a downsampling rule instead of raw samples. */
  downsampled?: { fromWindowSeconds: number; promql: string };
}

/**
 * A figure since local midnight ("day") or the 1st ("month"), as the sum of pieces (since.ts):
 * the closed ones and the one since the last full hour asked once, the figure moved by the live
 * request in between (``follow``): ``refreshSeconds`` is how often it moves.
 */
export interface SinceQuery {
  id: string;
  panel: PanelId;
  kind: "since";
  /** The figure over the piece ($from, $range, $reach) before the evaluation time; it must add up over time. */
  promql: string;
  spans: Since[];
  refreshSeconds: number;
  /**
   * The figure moves with the live request (since.ts: followLive): the live request carries the
   * counters of ``parts``, and ``open``, the open piece's query, answers them too with its
   * evaluation time. The open piece is then asked once per piece (again after a counter reset),
   * not every refresh.
   */
  follow: { parts: Part[]; open: string };
}

/** One figure of a "since" query: linear in one counter's growth, so the browser can add to it. */
export interface Part {
  q: string;
  counter: string;
  /** Summed by these labels ([]: one sum); absent: one figure per series. */
  by?: string[];
  /** Divided by this (joules to kWh). */
  per?: string;
  /** Times the energy price, its currency label added. */
  priced?: boolean;
}

export type Query = InstantQuery | RangeQuery | SinceQuery;

// Several metrics in one request. With `job`, the job's `up` comes along in the same selector
// (an `or up{...}` would drop it: `or` matches label sets without the name).
const names = (...metrics: string[]): string => `{__name__=~"${metrics.join("|")}"}`;
const ofJob = (job: string, metrics: string[], extra = ""): string =>
  `{__name__=~"${[...metrics, "up"].join("|")}",job="${job}"${extra}}`;

// What a counter grew by over a piece: its value now minus its last value at the piece's start,
// exact to the sample (increase() would extrapolate each piece to its ends, and the readings
// between two pieces would fall between them). Where it was reset meanwhile, or has no value
// at the start (a new series), increase() over the piece instead.
const grown = (counter: string): string =>
  `((${counter} - ${counter} @ $from) and (resets(${counter}[$reachs]) == 0) or increase(${counter}[$ranges]))`;

export const PRICE = "balupi_energy_price_per_kilowatt_hour";
// When an answer was evaluated: an instant query's samples carry no time of their own here.
export const EVALUATED_AT_Q = "evaluated_at";
export const EVALUATED_AT = `label_replace(vector(time()), "q", "${EVALUATED_AT_Q}", "", "")`;

function partPromql(p: Part): string {
  let x = grown(p.counter);
  if (p.by) x = `sum${p.by.length ? ` by (${p.by.join(", ")}) ` : ""}(${x})`;
  if (p.per) x = `${x} / ${p.per}`;
  if (p.priced) x = `${x} * on() group_left(currency) ${PRICE}`;
  return `label_replace(${x}, "q", "${p.q}", "", "")`;
}

/** A "since" figure that follows the live request: its parts per piece, in one request. */
function following(id: string, parts: Part[]) {
  const promql = parts.map(partPromql).join(" or ");
  return { id, promql, follow: { parts, open: `${promql} or ${names(...countersOf(parts))} or ${EVALUATED_AT}` } };
}
function countersOf(parts: Part[]): string[] {
  return [...new Set(parts.map((p) => p.counter))];
}

// When the scrape job's `up` was last written: the time of its last scrape, failed or not.
const scrapedAt = (job: string): string => `label_replace(timestamp(up{job="${job}"}), "q", "scraped_at", "", "")`;

// Energy per plug since local midnight and since the 1st (the browser's calendar), cost priced
// like the rules price it (balupi-usage.rules.yml). "q" names the figure; without a price the
// cost half is empty. Summed over pieces (since.ts): the open one reads at most the last hour,
// and moves with the live request in between.
const JOULES = "tapo_energy_joules_total";
const ENERGY = following("power.energy", [
  { q: "kwh", counter: JOULES, per: "3.6e6" },
  { q: "cost", counter: JOULES, per: "3.6e6", priced: true },
]);
// Hours online since local midnight; the wakes by result and the outages in the same request.
const USAGE_TODAY = following("usage.today", [
  { q: "online", counter: "balupi_nas_online_seconds_total" },
  { q: "wakes", counter: "balupi_nas_wakes_total", by: ["result"] },
  { q: "outages", counter: "balupi_nas_takeovers_total", by: [] },
]);

// Each live panel's series: one selector per scrape job, with that job's `up`.
const LIVE = {
  // With the energy counter and its price: the energy since midnight moves with it.
  power: `${ofJob("tapo", ["tapo_power_watts", "tapo_up", ...countersOf(ENERGY.follow.parts), PRICE])} or ${scrapedAt("tapo")}`,
  // The blocked-ratio rule keeps the job label of the series it divides.
  pihole: ofJob("pihole", [
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
  // The inbox's oldest file's age (the rest comes with the handshake status), and the usage
  // counters: today's usage moves with them.
  inbox: ofJob("handshake", ["balupi_inbox_oldest_file_age_seconds", ...countersOf(USAGE_TODAY.follow.parts)]),
  // The Pi panel, and the share disk of the inbox panel: the filesystem that holds SHARE_PATH.
  node: ofJob(
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
};

export const HOUR = 3600;
export const DAY = 86400;

export const QUERIES = {
  // The energy since midnight and the 1st (ENERGY above).
  powerEnergy: {
    ...ENERGY,
    panel: "power",
    kind: "since",
    spans: ["day", "month"],
    // Moves with each live answer: once per scrape.
    refreshSeconds: 15,
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
  // Today's usage (USAGE_TODAY above).
  usageToday: {
    ...USAGE_TODAY,
    panel: "usage",
    kind: "since",
    spans: ["day"],
    // Moves with each live answer: once per scrape.
    refreshSeconds: 15,
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
    refresh: "daily",
    fixedStepSeconds: DAY,
  },
  usageAverages: {
    id: "usage.averages",
    panel: "usage",
    kind: "instant",
    promql: names("balupi:nas_power_watts:avg_online_1d", "balupi:nas_power_watts:avg_asleep_1d"),
    refreshSeconds: 300,
  },
  // The live panels' series in one request, asked just after each scrape: for small selectors
  // like these a request's own cost is most of what Prometheus spends, so one request instead
  // of one per panel about halves it (bench/dashboard_cost.py). The parts are told apart by
  // their job (`or` keeps every series: no two parts share a label set).
  // With the answer's evaluation time, for the figures that follow it (since.ts: followLive).
  live: {
    id: "live",
    panel: ["power", "pihole", "inbox", "pi", "usage"],
    kind: "instant",
    promql: [...Object.values(LIVE), EVALUATED_AT].join(" or "),
    // A new reading exists once per scrape (every 15 s): asked within about 2 s of it.
    refreshSeconds: 15,
    followsScrape: true,
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

/** The PromQL of ``q`` with its placeholders filled in. */
export function render(
  q: Query,
  values: { step?: number; piece?: { from: number; range: number; reach: number }; windowSeconds?: number } = {},
): string {
  let text: string = q.promql;
  if (q.kind === "range" && q.downsampled && values.windowSeconds !== undefined) {
    if (values.windowSeconds >= q.downsampled.fromWindowSeconds) text = q.downsampled.promql;
  }
  if (values.step !== undefined) text = text.replaceAll("$step", String(values.step));
  if (values.piece !== undefined) {
    text = text.replaceAll("$from", String(values.piece.from));
    text = text.replaceAll("$range", String(values.piece.range));
    text = text.replaceAll("$reach", String(values.piece.reach));
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
