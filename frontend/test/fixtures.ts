// Answers as the real services give them (shapes read from handshake/app.py and a live demo).
import type { Status } from "../src/api/handshake";

export function status(overrides: Partial<Status> = {}): Status {
  return {
    nas_state: "online",
    since: "2026-12-01T10:00:00Z",
    dns: {
      hostname: "baluhost.local",
      target: "nas",
      address: "192.168.1.10",
      wanted_address: "192.168.1.10",
      pending: false,
      last_error: null,
    },
    last_snapshot: null,
    wake: { in_progress: false, elapsed_seconds: null, timeout_seconds: 90 },
    heartbeat: { last_result: "ok", last_at: "2026-12-01T10:05:00Z", last_error: null },
    inbox: {
      files: 0,
      bytes: 0,
      flush_running: false,
      last_flush: null,
      last_error: null,
      last_error_at: null,
      moved_files_total: 0,
    },
    ...overrides,
  };
}

export const SNAPSHOT = {
  version: 1,
  generated_at: "2026-12-01T08:00:00Z",
  baluhost_version: "1.2.0",
  system: { hostname: "baluhost", uptime_seconds: 1000, cpu_model: "x", ram_total_gb: 16 },
  storage: {
    arrays: [
      { name: "md0", level: "raid1", state: "optimal", size_bytes: 4e12, devices: ["sda", "sdb"] },
      { name: "md1", level: "raid1", state: "degraded", size_bytes: 2e12, devices: ["sdc"] },
    ],
    total_bytes: 6e12,
    used_bytes: 1.5e12,
  },
  smart_health: {
    sdb: { status: "FAILED", temperature_c: 51, power_on_hours: 9 },
    sda: { status: "PASSED", temperature_c: 34, power_on_hours: 1000 },
  },
  services: { vpn: { active_clients: 2 }, shares: { active_shares: 3 }, backups: { last_backup: "2026-11-30T03:00:00Z", status: "success" } },
  users: { total: 2, list: [{ username: "anna", role: "admin" }, { username: "ben", role: "user" }] },
  files_summary: { total_files: 12345, total_size_bytes: 1e12 },
};

/** A Prometheus vector answer. */
export function vector(items: [Record<string, string>, string][]): string {
  return JSON.stringify({
    status: "success",
    data: { resultType: "vector", result: items.map(([metric, v]) => ({ metric, value: [1_764_583_200, v] })) },
  });
}
