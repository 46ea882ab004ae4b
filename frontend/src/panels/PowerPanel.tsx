// Power: the NAS plug's watts now (big, live), each plug when there are several, energy and
// cost from the recording rules, and the history chart (24 h, 7 d, 30 d).
import { useState } from "react";
import { byName, jobUp, valueOf, type Sample } from "../api/prometheus";
import { Chart } from "../components/Chart";
import { Panel, Stat } from "../components/Panel";
import { formatKwh, formatMoney, formatWatts } from "../format";
import { stateOf, useInstant, useNow, useRange } from "../hooks";
import { useLanguage } from "../i18n/language";
import { worstState, withUpstream, type UpstreamName } from "../panelState";
import { DAY, QUERIES } from "../queryPlan";

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

const WINDOWS = [
  { seconds: DAY, key: "day" },
  { seconds: 7 * DAY, key: "week" },
  { seconds: 30 * DAY, key: "month" },
] as const;

export function PowerPanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  const [windowSeconds, setWindow] = useState<number>(DAY);
  const live = useInstant(QUERIES.powerNow);
  const energy = useInstant(QUERIES.powerEnergy);
  const history = useRange(QUERIES.powerHistory, windowSeconds);
  const samples = live.data ?? [];
  const plug = nasPlug(samples);
  const state = worstState([
    withUpstream(stateOf(live, "prometheus", QUERIES.powerNow.refreshSeconds, now), live.data ? powerUpstream(samples, plug) : null),
    stateOf(energy, "prometheus", QUERIES.powerEnergy.refreshSeconds, now),
    stateOf(history, "prometheus", QUERIES.powerHistory.refreshSeconds, now),
  ]);
  const watts = plug !== null ? valueOf(samples, "tapo_power_watts", { plug }) : undefined;
  const plugs = [...new Set(byName(samples, "tapo_up").map((s) => s.labels.plug ?? ""))].sort();
  const e = energy.data ?? [];
  const of = (name: string) => (plug !== null ? valueOf(e, name, { plug }) : undefined);
  const cost = (name: string) => {
    const found = plug !== null ? byName(e, name).find((s) => s.labels.plug === plug) : undefined;
    return found && found.value !== null ? formatMoney(lang, found.value, found.labels.currency ?? "EUR") : null;
  };
  const kwh1d = of("balupi:energy_kwh:increase1d");
  const kwh30d = of("balupi:energy_kwh:increase30d");
  const hasPrice = byName(e, "balupi:energy_cost:increase1d").length > 0;
  const windowName = t.power.windows[WINDOWS.find((w) => w.seconds === windowSeconds)?.key ?? "day"];

  return (
    <Panel id="power" title={t.power.title} state={state} hasData={live.data !== undefined} wide>
      <dl className="stats">
        <Stat big live label={t.power.now} value={watts === undefined || watts === null ? null : formatWatts(lang, watts)} />
        <Stat
          label={`${t.power.energy}, ${t.power.last24h}`}
          value={kwh1d == null ? null : formatKwh(lang, kwh1d)}
          detail={cost("balupi:energy_cost:increase1d")}
        />
        <Stat
          label={`${t.power.energy}, ${t.power.last30d}`}
          value={kwh30d == null ? null : formatKwh(lang, kwh30d)}
          detail={hasPrice ? cost("balupi:energy_cost:increase30d") : energy.data ? t.power.noPrice : null}
        />
      </dl>
      {plugs.length > 1 && (
        <dl className="stats plugs" aria-label={t.power.plugs}>
          {plugs.map((p) => {
            const w = valueOf(samples, "tapo_power_watts", { plug: p });
            return <Stat key={p} label={p} value={w == null ? null : formatWatts(lang, w)} />;
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
        <Chart
          data={history.data}
          label={t.power.chartLabel(windowName)}
          seriesName={(l) => l.plug ?? "?"}
          unit="W"
          lang={lang}
        />
      ) : (
        <p className="muted chart-empty">{history.isPending ? t.loading : t.power.noHistory}</p>
      )}
    </Panel>
  );
}
