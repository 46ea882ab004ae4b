// The wake as the person sees it: sending, waking (seconds against the timeout), then online
// after N s or not within the timeout. A pure reducer over the button's answer and the status
// polls, so it is tested without a browser.
import { isoToMs, type Status, type WakeAnswer } from "./api/handshake";

export type WakePhase =
  | { kind: "idle" }
  | { kind: "sending" }
  | { kind: "waking"; startedAt: number; elapsed: number; timeout: number }
  | { kind: "online"; afterSeconds: number }
  | { kind: "timed_out"; timeout: number }
  | { kind: "already_online" }
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "send_failed"; error: string }
  | { kind: "refused"; reason: string } // the service refused the request (e.g. 403 cross-site)
  | { kind: "unreachable" }; // the handshake service did not answer the button

export type WakeEvent =
  | { type: "press" }
  | { type: "answer"; answer: WakeAnswer; now: number }
  | { type: "no_answer" }
  | { type: "refused"; reason: string }
  | { type: "status"; status: Status; now: number }
  | { type: "dismiss" };

export function wakeReducer(phase: WakePhase, event: WakeEvent): WakePhase {
  switch (event.type) {
    case "press":
      return { kind: "sending" };
    case "dismiss":
      return { kind: "idle" };
    case "no_answer":
      return { kind: "unreachable" };
    case "refused":
      return { kind: "refused", reason: event.reason };
    case "answer": {
      const a = event.answer;
      if (a.kind === "sent") {
        return { kind: "waking", startedAt: event.now - a.elapsed * 1000, elapsed: a.elapsed, timeout: a.timeout };
      }
      if (a.kind === "rate_limited") return { kind: "rate_limited", retryAfterSeconds: a.retryAfterSeconds };
      if (a.kind === "send_failed") return { kind: "send_failed", error: a.error };
      if (a.state === "online") return { kind: "already_online" };
      // Already waking (someone else pressed, or cron): follow that wake.
      return { kind: "waking", startedAt: event.now, elapsed: 0, timeout: 90 };
    }
    case "status":
      return followStatus(phase, event.status, event.now);
  }
}

function followStatus(phase: WakePhase, status: Status, now: number): WakePhase {
  const wake = status.wake;
  if (status.nas_state === "waking" && wake.in_progress && wake.elapsed_seconds !== null) {
    // Any wake the service runs is shown, also one started elsewhere.
    if (phase.kind === "idle" || phase.kind === "waking" || phase.kind === "sending") {
      return {
        kind: "waking",
        startedAt: now - wake.elapsed_seconds * 1000,
        elapsed: wake.elapsed_seconds,
        timeout: wake.timeout_seconds,
      };
    }
    return phase;
  }
  if (phase.kind !== "waking") return phase;
  if (status.nas_state === "online") {
    // The state changed when the NAS answered: since - start is how long it took.
    const since = isoToMs(status.since) ?? now;
    const after = Math.max(0, Math.round((since - phase.startedAt) / 1000));
    return { kind: "online", afterSeconds: after };
  }
  if (status.nas_state === "offline" || status.nas_state === "unreachable") {
    return { kind: "timed_out", timeout: phase.timeout };
  }
  return phase;
}

/** Seconds shown while waking: counted locally between polls, never past the timeout. */
export function shownElapsed(phase: Extract<WakePhase, { kind: "waking" }>, now: number): number {
  return Math.min(phase.timeout, Math.max(0, Math.round((now - phase.startedAt) / 1000)));
}
