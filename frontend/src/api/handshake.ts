// balupi-handshake's API (/api/): the status the NAS panel polls, and the two buttons.
import { errorPageKind, isObject, request, type JsonAnswer } from "./http";
import { SourceError } from "./sourceError";

export type NasState = "online" | "shutting_down" | "offline" | "waking" | "unreachable";
const NAS_STATES: readonly string[] = ["online", "shutting_down", "offline", "waking", "unreachable"];

export interface FlushReport {
  result: "ok" | "partial" | "failed" | string;
  started_at: number;
  duration_seconds: number;
  moved_files: number;
  moved_bytes: number;
  error: string | null;
  not_ready?: string[];
  problems?: { name: string; reason: string }[];
}

export interface Status {
  nas_state: NasState;
  since: string | null;
  dns: {
    hostname: string;
    target: "nas" | "pi" | null;
    address: string | null;
    wanted_address: string | null;
    pending: boolean;
    last_error: string | null;
  };
  last_snapshot: string | null;
  wake: { in_progress: boolean; elapsed_seconds: number | null; timeout_seconds: number };
  heartbeat: {
    last_result: "ok" | "miss" | null;
    last_at: string | null;
    last_error: string | null;
  };
  inbox: {
    files: number;
    bytes: number;
    flush?: string; // "not configured ..." without [inbox]
    flush_running?: boolean;
    last_flush?: FlushReport | null;
    last_error?: string | null;
    last_error_at?: string | null;
    moved_files_total?: number;
  };
}

// The browser sends these with every state-changing call; nginx and the service refuse a
// cross-site request that lacks them (a form on another site cannot set a custom header).
export const POST_HEADERS = {
  "Content-Type": "application/json",
  "X-Requested-With": "balupi-dashboard",
} as const;

function handshakeFailure(answer: JsonAnswer): never {
  if (answer.status >= 500 && !isObject(answer.body)) {
    throw new SourceError(errorPageKind(answer), `HTTP ${answer.status}`, answer.status);
  }
  // nginx's own JSON for a service that does not answer (nginx/balupi.conf, @handshake_down):
  // the service never answers 502 or 504 to a status request itself.
  if (answer.status === 502 || answer.status === 504) {
    const why = isObject(answer.body) ? String(answer.body.error ?? "") : "";
    throw new SourceError("unreachable", why || `HTTP ${answer.status}`, answer.status);
  }
  const reason = isObject(answer.body) ? String(answer.body.error ?? "") : "";
  throw new SourceError("refused", reason || `HTTP ${answer.status}`, answer.status);
}

export function parseStatus(answer: JsonAnswer): Status {
  if (answer.status !== 200) handshakeFailure(answer);
  const b = answer.body;
  if (!isObject(b) || typeof b.nas_state !== "string" || !NAS_STATES.includes(b.nas_state)) {
    throw new SourceError("bad_answer", "not a handshake status", answer.status);
  }
  if (!isObject(b.dns) || !isObject(b.wake) || !isObject(b.heartbeat) || !isObject(b.inbox)) {
    throw new SourceError("bad_answer", "handshake status lacks a section", answer.status);
  }
  return b as unknown as Status;
}

export async function fetchStatus(signal?: AbortSignal): Promise<Status> {
  return parseStatus(await request("/api/status", signal ? { signal } : {}));
}

export type WakeAnswer =
  | { kind: "sent"; elapsed: number; timeout: number } // 202: the magic packet went out
  | { kind: "not_sent"; state: NasState | null; reason: string } // 200: online or waking already
  | { kind: "rate_limited"; retryAfterSeconds: number } // 429
  | { kind: "send_failed"; error: string }; // 502: the packet could not be sent

export function parseWake(answer: JsonAnswer): WakeAnswer {
  const b = isObject(answer.body) ? answer.body : null;
  const num = (v: unknown, fallback: number) => (typeof v === "number" ? v : fallback);
  if (answer.status === 202 && b) {
    return {
      kind: "sent",
      elapsed: num(b.wake_elapsed_seconds, 0),
      timeout: num(b.wake_timeout_seconds, 90),
    };
  }
  if (answer.status === 200 && b) {
    const state = typeof b.nas_state === "string" && NAS_STATES.includes(b.nas_state);
    return {
      kind: "not_sent",
      state: state ? (b.nas_state as NasState) : null,
      reason: String(b.reason ?? ""),
    };
  }
  if (answer.status === 429) {
    const header = Number(answer.headers.get("Retry-After"));
    return { kind: "rate_limited", retryAfterSeconds: Number.isFinite(header) && header > 0 ? header : 10 };
  }
  if (answer.status === 502 && b) {
    return { kind: "send_failed", error: String(b.error ?? "") };
  }
  return handshakeFailure(answer);
}

export async function postWake(): Promise<WakeAnswer> {
  return parseWake(await request("/api/wake-nas", { method: "POST", headers: POST_HEADERS, body: "{}" }));
}

export type FlushAnswer =
  | { kind: "done"; report: FlushReport }
  | { kind: "refused"; reason: string; status: number };

export function parseFlush(answer: JsonAnswer): FlushAnswer {
  const b = isObject(answer.body) ? answer.body : null;
  if (answer.status === 200 && b && typeof b.result === "string") {
    return { kind: "done", report: b as unknown as FlushReport };
  }
  if (b && typeof b.error === "string" && answer.status < 500) {
    return { kind: "refused", reason: b.error, status: answer.status };
  }
  return handshakeFailure(answer);
}

export async function postFlush(): Promise<FlushAnswer> {
  return parseFlush(
    await request("/api/inbox/flush", { method: "POST", headers: POST_HEADERS, body: "{}" }),
  );
}

export function isoToMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}
