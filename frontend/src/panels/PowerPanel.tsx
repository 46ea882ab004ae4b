// Power: the NAS plug's watts now (big, live), each plug when there are several, energy and
// cost today and this month (the browser's local calendar), and the history chart (24 h, 7 d, 30 d).
import { lazy, Suspense, useState } from "react";
import { byName, jobUp, valueOf, type Sample } from "../api/prometheus";
import { Panel, Stat } from "../components/Panel";
import { formatKwh, formatMoney, formatWatts } from "../format";
import { stateOf, useInstant, useNow, useRange, useSince } from "../hooks";
import { useLanguage } from "../i18n/language";
import { worstState, withUpstream, type UpstreamName } from "../panelState";
import { DAY, QUERIES } from "../queryPlan";

// uPlot in its own chunk: the panel's figures render before the chart code is parsed.
const Chart = lazy(() => import("../components/Chart").then((m) => ({ default: m.Chart })));

export const NAS_PLUG = "nas";

/** The plug that feeds the NAS figures: the one named "nas", else the only/first one. */
export function nasPlug(samples: Sample[]): string | null {
  const plugs = [...new Set(byName(samples, "tapo_up").map((s) => s.labels.plug ?? ""))].sort();
  if (plugs.includes(NAS_PLUG)) return NAS_PLUG;
  return plugs[0] ?? null;
}

export function powerUpstream(samples: Sample[], plug: string | null): UpstreamName | null {
  if (jobUp(samples, "tapo") === false) return "exporter";
  if (plug !== null && valueOf(samples, "tapo_up", { plug }) === 0) return "plug";
  return null;
}

/** One plug's figure ("kwh" or "cost") from an energy query's answer. */
function figure(samples: Sample[] | undefined, q: "kwh" | "cost", plug: string | null): Sample | undefined {
  if (!samples || plug === null) return undefined;
  return samples.find((s) => s.labels.q === q && s.labels.plug === plug);
}

const WINDOWS = [
  { seconds: DAY, key: "day" },
  { seconds: 7 * DAY, key: "week" },
  { seconds: 30 * DAY, key: "month" },
] as const;

export function PowerPanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  const [windowSeconds, setWindow] = useState<number>(DAY);
  const live = useInstant(QUERIES.live);
  const today = useSince(QUERIES.powerEnergy, "day");
  const month = useSince(QUERIES.powerEnergy, "month");
  const history = useRange(QUERIES.powerHistory, windowSeconds);
  const samples = live.data ?? [];
  const plug = nasPlug(samples);
  const state = worstState([
    withUpstream(stateOf(live, "prometheus", QUERIES.live.refreshSeconds, now), live.data ? powerUpstream(samples, plug) : null),
    stateOf(today, "prometheus", QUERIES.powerEnergy.refreshSeconds, now),
    stateOf(month, "prometheus", QUERIES.powerEnergy.refreshSeconds, now),
    stateOf(history, "prometheus", QUERIES.powerHistory.refreshSeconds, now),
  ]);
  const watts = plug !== null ? valueOf(samples, "tapo_power_watts", { plug }) : undefined;
  const plugs = [...new Set(byName(samples, "tapo_up").map((s) => s.labels.plug ?? ""))].sort();
  const kwh = (samples: Sample[] | undefined, p: string | null): string | null => {
    const found = figure(samples, "kwh", p);
    return found && found.value !== null ? formatKwh(lang, found.value) : null;
  };
  const cost = (samples: Sample[] | undefined): string | null => {
    const found = figure(samples, "cost", plug);
    return found && found.value !== null ? formatMoney(lang, found.value, found.labels.currency ?? "EUR") : null;
  };
  // Without balupi_energy_price_per_kilowatt_hour the cost half of the answer is empty.
  const hasPrice = (today.data ?? []).some((s) => s.labels.q === "cost");
  const monthStart = new Date(now);
  monthStart.setDate(1);
  const monthStartName = new Intl.DateTimeFormat(lang, { day: "numeric", month: "long" }).format(monthStart);
  const windowName = t.power.windows[WINDOWS.find((w) => w.seconds === windowSeconds)?.key ?? "day"];

  return (
    <Panel id="power" title={t.power.title} state={state} hasData={live.data !== undefined} wide>
      <dl className="stats">
        <Stat big live label={t.power.now} value={watts === undefined || watts === null ? null : formatWatts(lang, watts)} />
        <Stat
          label={t.power.energyToday}
          value={kwh(today.data, plug)}
          detail={today.data ? (hasPrice ? cost(today.data) : t.power.noPrice) : null}
        />
        <Stat
          label={t.power.energyMonth(monthStartName)}
          value={kwh(month.data, plug)}
          detail={month.data ? (hasPrice ? cost(month.data) : t.power.noPrice) : null}
        />
      </dl>
      {plugs.length > 1 && (
        <dl className="stats plugs" aria-label={t.power.plugs}>
          {plugs.map((p) => {
            const w = valueOf(samples, "tapo_power_watts", { plug: p });
            const energy = t.power.plugEnergy(kwh(today.data, p) ?? t.missing, kwh(month.data, p) ?? t.missing);
            return <Stat key={p} label={p} value={w == null ? null : formatWatts(lang, w)} detail={energy} />;
          })}
        </dl>
      )}
      <div className="chart-head">
        <h3>{t.power.history}</h3>
        <div className="segmented" role="group" aria-label={t.power.history}>
          {WINDOWS.map((w) => (
            <button
              key={w.key}
              type="button"
              aria-pressed={w.seconds === windowSeconds}
              onClick={() => setWindow(w.seconds)}
            >
              {t.power.windows[w.key]}
            </button>
          ))}
        </div>
      </div>
      {history.data && history.data.series.length > 0 ? (
        <Suspense fallback={<p className="muted chart-empty">{t.loading}</p>}>
          <Chart
            data={history.data}
            label={t.power.chartLabel(windowName)}
            seriesName={(l) => l.plug ?? "?"}
            unit="W"
            lang={lang}
          />
        </Suspense>
      ) : (
        <p className="muted chart-empty">{history.isPending ? t.loading : t.power.noHistory}</p>
      )}
    </Panel>
  );
}
