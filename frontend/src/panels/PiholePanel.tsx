// Pi-hole: queries and blocked in FTL's 24 h window, blocking on/off, clients, the most
// blocked domains (when the exporter's top_items is on), and the API seats in use.
import { byName, jobUp, valueOf, type Sample } from "../api/prometheus";
import { Panel, Stat } from "../components/Panel";
import { formatNumber, formatPercent } from "../format";
import { stateOf, useInstant, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import { withUpstream, type UpstreamName } from "../panelState";
import { QUERIES } from "../queryPlan";

export function piholeUpstream(samples: Sample[]): UpstreamName | null {
  if (jobUp(samples, "pihole") === false) return "exporter";
  const up = byName(samples, "pihole_up");
  if (up.length > 0 && up.every((s) => s.value === 0)) return "pihole";
  return null;
}

export function PiholePanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  const q = useInstant(QUERIES.live);
  const s = q.data ?? [];
  const state = withUpstream(stateOf(q, "prometheus", QUERIES.live.refreshSeconds, now), q.data ? piholeUpstream(s) : null);
  const n = (v: number | null | undefined) => (v == null ? null : formatNumber(lang, v));
  const queries = valueOf(s, "pihole_dns_queries_today");
  const blocked = valueOf(s, "pihole_ads_blocked_today");
  const ratio = valueOf(s, "balupi:pihole_blocked:ratio") ?? (queries && blocked != null ? blocked / queries : undefined);
  const status = valueOf(s, "pihole_status");
  const active = valueOf(s, "pihole_unique_clients");
  const ever = valueOf(s, "pihole_clients_ever_seen");
  const seats = valueOf(s, "pihole_api_sessions");
  const seatsMax = valueOf(s, "pihole_api_sessions_max");
  const top = byName(s, "pihole_top_ads")
    .filter((x) => x.value !== null && x.labels.domain)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0))
    .slice(0, 5);
  const seatsTone = seats != null && seatsMax != null && seats >= seatsMax - 2 ? "warn" : undefined;

  return (
    <Panel id="pihole" title={t.pihole.title} state={state} hasData={q.data !== undefined}>
      <dl className="stats">
        <Stat label={t.pihole.queries} value={n(queries)} />
        <Stat label={t.pihole.blocked} value={n(blocked)} detail={ratio == null ? null : formatPercent(lang, ratio)} />
        <Stat
          label={t.pihole.blocking}
          value={status == null ? null : status === 1 ? t.pihole.on : t.pihole.off}
          tone={status == null ? undefined : status === 1 ? "ok" : "warn"}
        />
        <Stat label={t.pihole.clients} value={n(active)} detail={active != null && ever != null ? t.pihole.clientsDetail(n(active)!, n(ever)!) : null} />
        <Stat
          label={t.pihole.seats}
          value={seats == null ? null : seatsMax == null ? n(seats) : t.pihole.seatsOf(n(seats)!, n(seatsMax)!)}
          tone={seatsTone}
        />
      </dl>
      {top.length > 0 && (
        <>
          <h3>{t.pihole.topBlocked}</h3>
          <ol className="toplist">
            {top.map((x) => (
              <li key={x.labels.domain}>
                <span className="domain">{x.labels.domain}</span>
                <span className="count">{n(x.value)}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </Panel>
  );
}
