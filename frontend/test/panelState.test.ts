import { describe, expect, it } from "vitest";
import { SourceError } from "../src/api/sourceError";
import { sourceState, worstState, withUpstream } from "../src/panelState";

const base = { source: "prometheus" as const, refreshSeconds: 15, error: null, errorUpdatedAt: 0 };

describe("a panel's state", () => {
  it("is loading before the first answer", () => {
    expect(sourceState({ ...base, dataUpdatedAt: 0 }, 1000).kind).toBe("loading");
  });

  it("is live after a fresh answer and stale once three refreshes are missing", () => {
    expect(sourceState({ ...base, dataUpdatedAt: 100_000 }, 110_000)).toEqual({ kind: "live", updatedAt: 100_000 });
    expect(sourceState({ ...base, dataUpdatedAt: 100_000 }, 146_000)).toEqual({ kind: "stale", updatedAt: 100_000 });
  });

  it("is down when the last attempt failed, keeping the age of the old data", () => {
    const error = new SourceError("unreachable", "HTTP 502", 502);
    expect(sourceState({ ...base, dataUpdatedAt: 100_000, error, errorUpdatedAt: 120_000 }, 121_000)).toEqual({
      kind: "down",
      source: "prometheus",
      error,
      updatedAt: 100_000,
    });
    expect(sourceState({ ...base, dataUpdatedAt: 0, error, errorUpdatedAt: 1 }, 2).kind).toBe("down");
    // A good answer after the failure: live again.
    expect(sourceState({ ...base, dataUpdatedAt: 130_000, error, errorUpdatedAt: 120_000 }, 131_000).kind).toBe("live");
  });

  it("marks an upstream that is down only when the source itself answers", () => {
    expect(withUpstream({ kind: "live", updatedAt: 5 }, "pihole")).toEqual({ kind: "upstream_down", what: "pihole", updatedAt: 5 });
    expect(withUpstream({ kind: "loading" }, "pihole")).toEqual({ kind: "loading" });
    expect(withUpstream({ kind: "live", updatedAt: 5 }, null)).toEqual({ kind: "live", updatedAt: 5 });
  });

  it("shows the worst of several sources", () => {
    const down = { kind: "down", source: "handshake", error: null, updatedAt: null } as const;
    expect(worstState([{ kind: "live", updatedAt: 1 }, down, { kind: "stale", updatedAt: 1 }])).toBe(down);
    expect(worstState([{ kind: "live", updatedAt: 1 }, { kind: "loading" }]).kind).toBe("loading");
  });
});
