// The NAS's last snapshot (read-only, from its last shutdown), with its age: arrays, space,
// disks, services, backup, files, and how many users (never their names).
import type { UseQueryResult } from "@tanstack/react-query";
import { arrayHealth, backupHealth, smartHealth, type Health, type Snapshot } from "../api/snapshot";
import { isoToMs } from "../api/handshake";
import type { SourceError } from "../api/sourceError";
import { Panel, Stat } from "../components/Panel";
import { formatBytes, formatCelsius, formatDuration, formatNumber, formatPercent, formatWhen } from "../format";
import { Meter } from "../components/Meter";
import { stateOf, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import type { PanelState } from "../panelState";
import { OTHER_SOURCES } from "../queryPlan";

const TONE: Record<Health, "ok" | "warn" | "bad" | undefined> = { good: "ok", busy: "warn", bad: "bad", unknown: undefined };

export function SnapshotPanel(props: {
  snapshot: UseQueryResult<Snapshot | null, SourceError>;
  statusState: PanelState;
  lastSnapshot: string | null | undefined;
}) {
  const { t, lang } = useLanguage();
  const now = useNow();
  const { snapshot } = props;
  // No snapshot named by the status: nothing to load, the panel says so (or that the status
  // itself is missing).
  const state: PanelState =
    props.lastSnapshot === null
      ? props.statusState.kind === "live" || props.statusState.kind === "stale"
        ? { kind: "live", updatedAt: props.statusState.updatedAt }
        : props.statusState
      : props.lastSnapshot === undefined
        ? props.statusState
        : stateOf(snapshot, "snapshot", OTHER_SOURCES.snapshot.refreshSeconds, now);
  const s = snapshot.data ?? null;
  // BaluHost's generated_at, else when the Pi stored it.
  const madeAt = s?.generatedAt ?? isoToMs(props.lastSnapshot);
  const n = (v: number | null) => (v === null ? null : formatNumber(lang, v));
  const health = (h: Health) => t.snapshot.health[h];

  return (
    <Panel
      id="snapshot"
      title={t.snapshot.title}
      state={state}
      badge={t.snapshot.badge}
      hasData={s !== null && props.lastSnapshot != null}
      empty={props.lastSnapshot === null || snapshot.data === null ? t.snapshot.none : undefined}
    >
      {s && (
        <>
          {madeAt !== null && (
            <p className="subtle">
              {t.snapshot.age(formatDuration(lang, (now - madeAt) / 1000, t.units))}
              {" · "}
              <time dateTime={new Date(madeAt).toISOString()}>{formatWhen(lang, madeAt, now)}</time>
            </p>
          )}
          <dl className="stats">
            <Stat
              label={t.snapshot.storage}
              value={s.usedBytes !== null && s.totalBytes ? t.pi.usedPercent(formatPercent(lang, s.usedBytes / s.totalBytes, 0)) : null}
              detail={
                s.usedBytes !== null && s.totalBytes ? (
                  <>
                    {t.pi.diskDetail(formatBytes(lang, s.usedBytes), formatBytes(lang, s.totalBytes))}
                    <Meter used={s.usedBytes} total={s.totalBytes} />
                  </>
                ) : null
              }
            />
            <Stat label={t.snapshot.vpn} value={n(s.vpnClients)} />
            <Stat label={t.snapshot.shares} value={n(s.shares)} />
            <Stat label={t.snapshot.users} value={n(s.users)} />
            <Stat
              label={t.snapshot.files}
              value={n(s.totalFiles)}
              detail={s.totalFileBytes !== null ? formatBytes(lang, s.totalFileBytes) : null}
            />
            <Stat
              label={t.snapshot.backup}
              value={s.lastBackup !== null ? formatWhen(lang, s.lastBackup, now) : s.backupStatus === "unknown" ? t.unknown : t.snapshot.noBackup}
              detail={s.lastBackup !== null && s.backupStatus ? (t.snapshot.backupStatus[s.backupStatus] ?? s.backupStatus) : null}
              tone={s.lastBackup !== null ? TONE[backupHealth(s.backupStatus)] : undefined}
            />
          </dl>
          {s.arrays.length > 0 && (
            <>
              <h3>{t.snapshot.arrays}</h3>
              <ul className="rows">
                {s.arrays.map((a) => (
                  <li key={a.name}>
                    <span>
                      {a.name}
                      {a.level && <span className="subtle"> · {a.level.toUpperCase()}</span>}
                      {a.sizeBytes !== null && <span className="subtle"> · {formatBytes(lang, a.sizeBytes)}</span>}
                    </span>
                    <span className={`pill tone-${TONE[arrayHealth(a.state)] ?? "muted"}`}>
                      {a.state ?? t.unknown} · {health(arrayHealth(a.state))}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
          {s.disks.length > 0 && (
            <>
              <h3>{t.snapshot.disks}</h3>
              <ul className="rows">
                {s.disks.map((d) => (
                  <li key={d.name}>
                    <span>
                      {d.name}
                      {d.temperatureC !== null && <span className="subtle"> · {formatCelsius(lang, d.temperatureC)}</span>}
                    </span>
                    <span className={`pill tone-${TONE[smartHealth(d.status)] ?? "muted"}`}>
                      SMART {d.status ?? t.unknown} · {health(smartHealth(d.status))}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </Panel>
  );
}
