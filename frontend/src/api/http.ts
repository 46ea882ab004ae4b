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

/** A 5xx page that is not the source's own JSON: a proxy's error page or a server starting. */
export function errorPageKind(answer: JsonAnswer): "unreachable" | "starting" {
  // Prometheus answers a plain-text 503 "Service Unavailable" while its TSDB loads; nginx's
  // 502/504 HTML means nothing listens behind it.
  if (answer.status === 503 && !/<html/i.test(answer.text)) return "starting";
  return "unreachable";
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
