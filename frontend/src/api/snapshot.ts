// BaluHost's shutdown snapshot (version 1), as nginx serves it from the snapshot folder.
// Every field is optional here: a NAS may send less, and the panel shows what is there.
import { errorPageKind, isObject, request } from "./http";
import { SourceError } from "./sourceError";

export interface SnapshotArray {
  name: string;
  level: string | null;
  state: string | null;
  sizeBytes: number | null;
  devices: string[];
}

export interface SnapshotDisk {
  name: string;
  status: string | null;
  temperatureC: number | null;
}

export interface Snapshot {
  generatedAt: number | null; // ms since epoch
  hostname: string | null;
  baluhostVersion: string | null;
  arrays: SnapshotArray[];
  totalBytes: number | null;
  usedBytes: number | null;
  disks: SnapshotDisk[];
  vpnClients: number | null;
  shares: number | null;
  lastBackup: number | null; // ms since epoch
  backupStatus: string | null;
  totalFiles: number | null;
  totalFileBytes: number | null;
  users: number | null; // only the count: names are never shown
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const obj = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});
const time = (v: unknown): number | null => {
  if (typeof v === "number") return v > 1e12 ? v : v * 1000;
  if (typeof v !== "string") return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
};

export function parseSnapshot(body: unknown): Snapshot {
  if (!isObject(body) || body.version !== 1) {
    throw new SourceError("bad_answer", "not a version 1 snapshot");
  }
  const storage = obj(body.storage);
  const services = obj(body.services);
  const users = obj(body.users);
  const files = obj(body.files_summary);
  const arrays = Array.isArray(storage.arrays) ? storage.arrays.filter(isObject) : [];
  return {
    generatedAt: time(body.generated_at),
    hostname: str(obj(body.system).hostname),
    baluhostVersion: str(body.baluhost_version),
    arrays: arrays.map((a, i) => ({
      name: str(a.name) ?? `#${i + 1}`,
      level: str(a.level),
      state: str(a.state),
      sizeBytes: num(a.size_bytes),
      devices: Array.isArray(a.devices) ? a.devices.filter((d): d is string => typeof d === "string") : [],
    })),
    totalBytes: num(storage.total_bytes),
    usedBytes: num(storage.used_bytes),
    disks: Object.entries(obj(body.smart_health))
      .filter(([, v]) => isObject(v))
      .map(([name, v]) => ({
        name,
        status: str(obj(v).status),
        temperatureC: num(obj(v).temperature_c),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    vpnClients: num(obj(services.vpn).active_clients),
    shares: num(obj(services.shares).active_shares),
    lastBackup: time(obj(services.backups).last_backup),
    backupStatus: str(obj(services.backups).status),
    totalFiles: num(files.total_files),
    totalFileBytes: num(files.total_size_bytes),
    users: num(users.total) ?? (Array.isArray(users.list) ? users.list.length : null),
  };
}

export async function fetchSnapshot(signal?: AbortSignal): Promise<Snapshot | null> {
  const answer = await request("/snapshot/snapshot.json", signal ? { signal } : {});
  if (answer.status === 404) return null; // no snapshot yet: not an error
  if (answer.status >= 500) {
    throw new SourceError(errorPageKind(answer), `HTTP ${answer.status}`, answer.status);
  }
  if (answer.status !== 200) throw new SourceError("refused", `HTTP ${answer.status}`, answer.status);
  if (answer.body === undefined) throw new SourceError("bad_answer", "the snapshot is not JSON");
  return parseSnapshot(answer.body);
}

// BaluHost reports a healthy array as `optimal`; mdadm says `clean` or `active`.
const HEALTHY_ARRAY = new Set(["optimal", "active", "clean", "healthy", "ok"]);
const HEALTHY_SMART = new Set(["passed", "ok", "good", "healthy"]);
const BUSY_ARRAY = /resync|recover|rebuild|check|reshape/;

export type Health = "good" | "busy" | "bad" | "unknown";

export function arrayHealth(state: string | null): Health {
  if (!state) return "unknown";
  const s = state.toLowerCase().trim();
  if (HEALTHY_ARRAY.has(s)) return "good";
  if (BUSY_ARRAY.test(s)) return "busy";
  return "bad";
}

export function smartHealth(status: string | null): Health {
  if (!status) return "unknown";
  return HEALTHY_SMART.has(status.toLowerCase().trim()) ? "good" : "bad";
}

// BaluHost's backups.status: its last backup's "completed", "in_progress" or "failed"; "none"
// when it has none, "unknown" when it could not tell (snapshot_export.py).
export function backupHealth(status: string | null): Health {
  if (!status) return "unknown";
  const s = status.trim();
  if (/^(ok|success|succeeded|completed|done)$/i.test(s)) return "good";
  if (/^(in_progress|running|pending)$/i.test(s)) return "busy";
  if (/^(none|unknown)$/i.test(s)) return "unknown";
  return "bad";
}
