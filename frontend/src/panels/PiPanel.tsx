// The Pi itself (node_exporter): CPU temperature, memory, system and HDD disks, uptime.
import { jobUp, valueOf } from "../api/prometheus";
import { Panel, Stat } from "../components/Panel";
import { formatBytes, formatCelsius, formatDuration, formatPercent } from "../format";
import { stateOf, useInstant, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import { withUpstream } from "../panelState";
import { DATA_PATH, QUERIES, SHARE_PATH } from "../queryPlan";
import { Meter } from "../components/Meter";
import { cpuTemperature, filesystemOf, filesystems } from "./node";

export function PiPanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  const q = useInstant(QUERIES.live);
  const s = q.data ?? [];
  const state = withUpstream(stateOf(q, "prometheus", QUERIES.live.refreshSeconds, now), q.data && jobUp(s, "node") === false ? "node" : null);
  const temp = cpuTemperature(s);
  const memTotal = valueOf(s, "node_memory_MemTotal_bytes");
  const memAvail = valueOf(s, "node_memory_MemAvailable_bytes");
  const boot = valueOf(s, "node_boot_time_seconds");
  const clock = valueOf(s, "node_time_seconds");
  const list = filesystems(s);
  const root = list.find((f) => f.mountpoint === "/");
  const hdd = filesystemOf(list, DATA_PATH) ?? filesystemOf(list, SHARE_PATH);
  // Use as a share ("70 % used") with the sizes below it and a meter.
  const usage = (used: number, total: number) => ({
    value: t.pi.usedPercent(formatPercent(lang, total > 0 ? used / total : 0, 0)),
    detail: (
      <>
        {t.pi.diskDetail(formatBytes(lang, used), formatBytes(lang, total))}
        <Meter used={used} total={total} />
      </>
    ),
  });
  const disk = (f: typeof root) => (f ? usage(f.sizeBytes - f.availBytes, f.sizeBytes) : null);
  const mem = memTotal != null && memAvail != null ? usage(memTotal - memAvail, memTotal) : null;
  const rootUse = disk(root);
  const hddUse = hdd && hdd.mountpoint !== "/" ? disk(hdd) : null;

  return (
    <Panel id="pi" title={t.pi.title} state={state} hasData={q.data !== undefined}>
      <dl className="stats">
        <Stat label={t.pi.cpuTemp} value={temp === undefined ? null : formatCelsius(lang, temp)} tone={temp !== undefined && temp > 75 ? "bad" : undefined} live />
        <Stat label={t.pi.memory} value={mem?.value} detail={mem?.detail} />
        <Stat label={t.pi.root} value={rootUse?.value} detail={rootUse?.detail} />
        {hdd && hddUse && <Stat label={`${t.pi.hdd} (${hdd.mountpoint})`} value={hddUse.value} detail={hddUse.detail} />}
        <Stat label={t.pi.uptime} value={boot != null && clock != null ? formatDuration(lang, clock - boot, t.units) : null} />
      </dl>
    </Panel>
  );
}
