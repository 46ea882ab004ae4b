import { describe, expect, it } from "vitest";
import { parseWake } from "../src/api/handshake";
import { shownElapsed, wakeReducer, type WakePhase } from "../src/wake";
import { status } from "./fixtures";

const T0 = Date.parse("2026-12-01T10:00:00Z");

function run(events: Parameters<typeof wakeReducer>[1][]): WakePhase {
  return events.reduce<WakePhase>(wakeReducer, { kind: "idle" });
}

describe("a wake as the person sees it", () => {
  it("goes sending → waking with seconds against the timeout → online after N s", () => {
    const waking = run([{ type: "press" }, { type: "answer", answer: { kind: "sent", elapsed: 0, timeout: 90 }, now: T0 }]);
    expect(waking).toMatchObject({ kind: "waking", timeout: 90 });
    if (waking.kind !== "waking") throw new Error("not waking");
    expect(shownElapsed(waking, T0 + 12_400)).toBe(12);
    expect(shownElapsed(waking, T0 + 500_000)).toBe(90);

    const polled = wakeReducer(waking, {
      type: "status",
      status: status({ nas_state: "waking", wake: { in_progress: true, elapsed_seconds: 20, timeout_seconds: 90 } }),
      now: T0 + 20_000,
    });
    expect(polled.kind).toBe("waking");
    const online = wakeReducer(polled, {
      type: "status",
      status: status({ nas_state: "online", since: "2026-12-01T10:00:41Z" }),
      now: T0 + 43_000,
    });
    expect(online).toEqual({ kind: "online", afterSeconds: 41 });
  });

  it("says the NAS did not wake when the service gives up (back to offline)", () => {
    const waking = run([{ type: "press" }, { type: "answer", answer: { kind: "sent", elapsed: 0, timeout: 90 }, now: T0 }]);
    const after = wakeReducer(waking, { type: "status", status: status({ nas_state: "offline" }), now: T0 + 91_000 });
    expect(after).toEqual({ kind: "timed_out", timeout: 90 });
  });

  it("follows a wake someone else started", () => {
    const seen = run([
      {
        type: "status",
        status: status({ nas_state: "waking", wake: { in_progress: true, elapsed_seconds: 5, timeout_seconds: 60 } }),
        now: T0,
      },
    ]);
    expect(seen).toMatchObject({ kind: "waking", elapsed: 5, timeout: 60, startedAt: T0 - 5000 });
  });

  it("ignores status polls while idle and the NAS is not waking", () => {
    expect(run([{ type: "status", status: status({ nas_state: "offline" }), now: T0 }])).toEqual({ kind: "idle" });
  });

  it("puts 429, 502, already online and no answer into their own phases", () => {
    const headers = new Headers({ "Retry-After": "27" });
    const limited = parseWake({ status: 429, body: { error: "rate-limited" }, text: "", headers });
    expect(run([{ type: "press" }, { type: "answer", answer: limited, now: T0 }])).toEqual({ kind: "rate_limited", retryAfterSeconds: 27 });
    const failed = parseWake({ status: 502, body: { error: "Network is unreachable" }, text: "", headers: new Headers() });
    expect(run([{ type: "answer", answer: failed, now: T0 }])).toEqual({ kind: "send_failed", error: "Network is unreachable" });
    const online = parseWake({ status: 200, body: { wol_sent: false, nas_state: "online", reason: "the NAS is already online" }, text: "", headers: new Headers() });
    expect(run([{ type: "answer", answer: online, now: T0 }])).toEqual({ kind: "already_online" });
    expect(run([{ type: "press" }, { type: "no_answer" }])).toEqual({ kind: "unreachable" });
  });

  it("refuses to read nginx's 502 page as a failed magic packet", () => {
    expect(() => parseWake({ status: 502, body: undefined, text: "<html>502 Bad Gateway</html>", headers: new Headers() })).toThrow();
  });
});
