// One GET helper for every source: same-origin, no cache, a timeout, and every failure turned
// into a SourceError (never an unhandled rejection, never a console error of ours).
import { SourceError } from "./sourceError";

export const REQUEST_TIMEOUT_MS = 8000;

export interface JsonAnswer {
  status: number;
  body: unknown; // parsed JSON, or undefined when the body was not JSON
  text: string;
  headers: Headers;
}

export async function request(url: string, init: RequestInit = {}): Promise<JsonAnswer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const outer = init.signal;
  if (outer) outer.addEventListener("abort", () => controller.abort(), { once: true });
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      cache: "no-store",
      ...init,
      signal: controller.signal,
    });
  } catch (err) {
    const why = controller.signal.aborted ? "no answer in time" : "no connection";
    throw new SourceError("unreachable", `${why}: ${err instanceof Error ? err.message : err}`);
  } finally {
    clearTimeout(timer);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw new SourceError("unreachable", `answer cut off: ${String(err)}`, response.status);
  }
  let body: unknown = undefined;
  const type = response.headers.get("Content-Type") ?? "";
  if (type.includes("json") || /^\s*[[{]/.test(text)) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status: response.status, body, text, headers: response.headers };
}

// Prometheus's own answer while it is not ready (its TSDB still loading, or shutting down):
// a 503 with exactly this text/plain body (web/web.go's testReady, 2.42 as in Debian 12, and 3.x).
export const PROMETHEUS_NOT_READY = "Service Unavailable";

/**
 * A 5xx answer that is not the source's own JSON. Only Prometheus's not-ready answer says the
 * source is starting; Prometheus 3 adds whether it is stopping instead (X-Prometheus-Stopping),
 * 2.42 cannot tell. Anything else (nginx's 502/504 page, another proxy's 503 page) means
 * nothing usable answered.
 */
export function errorPageKind(answer: JsonAnswer): "unreachable" | "starting" {
  if (answer.status !== 503 || answer.text.trim() !== PROMETHEUS_NOT_READY) return "unreachable";
  return answer.headers.get("X-Prometheus-Stopping") === "true" ? "unreachable" : "starting";
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
