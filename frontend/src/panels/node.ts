// node_exporter's answer, read for the Pi panel and the share disk.
import { byName, valueOf, type Sample } from "../api/prometheus";

export interface Filesystem {
  mountpoint: string;
  sizeBytes: number;
  availBytes: number;
}

export function filesystems(samples: Sample[]): Filesystem[] {
  const out: Filesystem[] = [];
  for (const size of byName(samples, "node_filesystem_size_bytes")) {
    const mountpoint = size.labels.mountpoint;
    if (!mountpoint || size.value === null || size.value <= 0) continue;
    const avail = valueOf(samples, "node_filesystem_avail_bytes", { mountpoint, device: size.labels.device ?? "" });
    if (avail === undefined || avail === null) continue;
    if (out.some((f) => f.mountpoint === mountpoint)) continue;
    out.push({ mountpoint, sizeBytes: size.value, availBytes: avail });
  }
  return out;
}

/** The filesystem that holds ``path``: the longest mountpoint that is a prefix of it. */
export function filesystemOf(list: Filesystem[], path: string): Filesystem | undefined {
  let best: Filesystem | undefined;
  for (const f of list) {
    const m = f.mountpoint;
    const holds = m === "/" || path === m || path.startsWith(m.endsWith("/") ? m : `${m}/`);
    if (holds && (!best || m.length > best.mountpoint.length)) best = f;
  }
  return best;
}

/** The CPU's temperature: the hottest thermal zone (a Pi has one, cpu-thermal). */
export function cpuTemperature(samples: Sample[]): number | undefined {
  const temps = byName(samples, "node_thermal_zone_temp")
    .map((s) => s.value)
    .filter((v): v is number => v !== null);
  return temps.length ? Math.max(...temps) : undefined;
}
