// The Pi itself (node_exporter): CPU temperature, memory, system and HDD disks, uptime.
import { jobUp, valueOf } from "../api/prometheus";
import { Panel, Stat } from "../components/Panel";
import { formatBytes, formatCelsius, formatDuration } from "../format";
import { stateOf, useInstant, useNow } from "../hooks";
import { useLanguage } from "../i18n/language";
import { withUpstream } from "../panelState";
import { DATA_PATH, QUERIES, SHARE_PATH } from "../queryPlan";
import { Meter } from "./InboxPanel";
import { cpuTemperature, filesystemOf, filesystems } from "./node";

export function PiPanel() {
  const { t, lang } = useLanguage();
  const now = useNow();
  const q = useInstant(QUERIES.node);
  const s = q.data ?? [];
  const state = withUpstream(stateOf(q, "prometheus", QUERIES.node.refreshSeconds, now), q.data && jobUp(s, "node") === false ? "node" : null);
  const temp = cpuTemperature(s);
  const memTotal = valueOf(s, "node_memory_MemTotal_bytes");
  const memAvail = valueOf(s, "node_memory_MemAvailable_bytes");
  const boot = valueOf(s, "node_boot_time_seconds");
  const clock = valueOf(s, "node_time_seconds");
  const list = filesystems(s);
  const root = list.find((f) => f.mountpoint === "/");
  const hdd = filesystemOf(list, DATA_PATH) ?? filesystemOf(list, SHARE_PATH);
  const disk = (f: typeof root) =>
    f ? t.pi.diskDetail(formatBytes(lang, f.sizeBytes - f.availBytes), formatBytes(lang, f.sizeBytes)) : null;

  return (
    <Panel id="pi" title={t.pi.title} state={state} hasData={q.data !== undefined}>
      <dl className="stats">
        <Stat label={t.pi.cpuTemp} value={temp === undefined ? null : formatCelsius(lang, temp)} tone={temp !== undefined && temp > 75 ? "bad" : undefined} live />
        <Stat
          label={t.pi.memory}
          value={memTotal != null && memAvail != null ? t.pi.memoryDetail(formatBytes(lang, memTotal - memAvail), formatBytes(lang, memTotal)) : null}
          detail={memTotal != null && memAvail != null ? <Meter used={memTotal - memAvail} total={memTotal} /> : null}
        />
        <Stat label={t.pi.root} value={disk(root)} detail={root ? <Meter used={root.sizeBytes - root.availBytes} total={root.sizeBytes} /> : null} />
        {hdd && hdd.mountpoint !== "/" && (
          <Stat label={`${t.pi.hdd} (${hdd.mountpoint})`} value={disk(hdd)} detail={<Meter used={hdd.sizeBytes - hdd.availBytes} total={hdd.sizeBytes} />} />
        )}
        <Stat label={t.pi.uptime} value={boot != null && clock != null ? formatDuration(lang, clock - boot, t.units) : null} />
      </dl>
    </Panel>
  );
}
