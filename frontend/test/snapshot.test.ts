import { describe, expect, it } from "vitest";
import { arrayHealth, backupHealth, parseSnapshot, smartHealth } from "../src/api/snapshot";
import { SNAPSHOT } from "./fixtures";

describe("the NAS snapshot", () => {
  it("reads BaluHost's v1 fields", () => {
    const s = parseSnapshot(SNAPSHOT);
    expect(s.generatedAt).toBe(Date.parse("2026-12-01T08:00:00Z"));
    expect(s.arrays.map((a) => [a.name, a.level, a.state])).toEqual([
      ["md0", "raid1", "optimal"],
      ["md1", "raid1", "degraded"],
    ]);
    expect(s.disks.map((d) => [d.name, d.status, d.temperatureC])).toEqual([
      ["sda", "PASSED", 34],
      ["sdb", "FAILED", 51],
    ]);
    expect([s.vpnClients, s.shares, s.totalFiles, s.users]).toEqual([2, 3, 12345, 2]);
    expect(s.lastBackup).toBe(Date.parse("2026-11-30T03:00:00Z"));
  });

  it("keeps only the number of users, never their names", () => {
    expect(JSON.stringify(parseSnapshot(SNAPSHOT))).not.toContain("anna");
  });

  it("shows what is there when a NAS sends less", () => {
    const s = parseSnapshot({ version: 1 });
    expect(s.arrays).toEqual([]);
    expect(s.usedBytes).toBeNull();
    expect(s.users).toBeNull();
    expect(() => parseSnapshot({ version: 2 })).toThrow();
    expect(() => parseSnapshot([])).toThrow();
  });

  it("calls BaluHost's healthy states healthy", () => {
    for (const state of ["optimal", "active", "clean", "Clean"]) expect(arrayHealth(state)).toBe("good");
    expect(arrayHealth("degraded")).toBe("bad");
    expect(arrayHealth("resyncing")).toBe("busy");
    expect(arrayHealth(null)).toBe("unknown");
    expect(smartHealth("PASSED")).toBe("good");
    expect(smartHealth("FAILED")).toBe("bad");
    expect(backupHealth("success")).toBe("good");
    expect(backupHealth("failed")).toBe("bad");
    expect(backupHealth("completed")).toBe("good");
    expect(backupHealth("in_progress")).toBe("busy");
    expect(backupHealth("none")).toBe("unknown");
  });
});
