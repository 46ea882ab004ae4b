// Usage (the plan's phase 1 questions): hours online today and per day, wakes and unexpected
// outages over 7 days, average draw online vs asleep.
import { useMemo } from "react";
import { valueOf } from "../api/prometheus";
import { Panel, Stat } from "../components/Panel";
import { formatHours, formatNumber, formatWatts, formatWeekday } from "../format";
import { stateOf, useDaily, useInstant, useNow, useSince } from "../hooks";
import { useLanguage } from "../i18n/language";
import { worstState } from "../panelState";
import { lastMidnights, QUERIES } from "../queryPlan";
import { usageDays } from "./usage";

export function UsagePanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  // Recomputed when the day changes, not every second.
  const dayKey = new Date(now).toDateString();
  const midnights = useMemo(() => lastMidnights(new Date(now), 7), [dayKey]);
  const today = useSince(QUERIES.usageToday, "day");
  const daily = useDaily(QUERIES.usageDays, midnights);
  const averages = useInstant(QUERIES.usageAverages);
  const state = worstState([
    stateOf(today, "prometheus", QUERIES.usageToday.refreshSeconds, now),
    stateOf(daily, "prometheus", QUERIES.usageDays.refreshSeconds, now),
    stateOf(averages, "prometheus", QUERIES.usageAverages.refreshSeconds, now),
  ]);
  const days = usageDays(daily.data, today.data, midnights);
  const last = days[days.length - 1];
  const wakes = days.reduce((a, d) => a + d.wakes, 0);
  const failed = days.reduce((a, d) => a + d.failedWakes, 0);
  const outages = days.reduce((a, d) => a + d.outages, 0);
  const avg = averages.data ?? [];
  const avgOnline = valueOf(avg, "balupi:nas_power_watts:avg_online_1d");
  const avgAsleep = valueOf(avg, "balupi:nas_power_watts:avg_asleep_1d");
  const hours = (s: number | null | undefined) => (s == null ? null : formatHours(lang, s, t.units));

  return (
    <Panel id="usage" title={t.usage.title} state={state} hasData={today.data !== undefined || daily.data !== undefined}>
      <dl className="stats">
        <Stat big label={t.usage.today} value={hours(last?.onlineSeconds)} />
      </dl>
      <h3>{t.usage.perDay}</h3>
      <ol className="bars" aria-label={t.usage.perDay}>
        {days.map((d) => (
          <li key={d.startMs} className={d.today ? "today" : ""}>
            <span className="bar-track" aria-hidden="true">
              <span className="bar" style={{ height: `${Math.round(((d.onlineSeconds ?? 0) / 86400) * 100)}%` }} />
            </span>
            <span className="bar-value">{d.onlineSeconds == null ? "–" : formatNumber(lang, d.onlineSeconds / 3600, 1)}</span>
            <span className="bar-label">
              {d.today ? t.usage.todayLabel : formatWeekday(lang, d.startMs + 12 * 3600_000)}
              <span className="sr-only">: {hours(d.onlineSeconds) ?? t.missing}</span>
            </span>
          </li>
        ))}
      </ol>
      <dl className="stats">
        <Stat
          label={t.usage.wakes}
          value={formatNumber(lang, wakes)}
          detail={failed ? t.usage.failedWakes(formatNumber(lang, failed)) : t.usage.span}
          tone={failed ? "warn" : undefined}
        />
        <Stat label={t.usage.outages} value={formatNumber(lang, outages)} detail={t.usage.span} tone={outages ? "bad" : undefined} />
        <Stat label={t.usage.avgOnline} value={avgOnline == null ? null : formatWatts(lang, avgOnline)} detail={t.usage.avgSpan} />
        <Stat label={t.usage.avgAsleep} value={avgAsleep == null ? null : formatWatts(lang, avgAsleep)} detail={t.usage.avgSpan} />
      </dl>
    </Panel>
  );
}
