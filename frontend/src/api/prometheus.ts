// Prometheus's HTTP API (through nginx's read-only /prometheus/): instant and range queries,
// its error envelope, error pages that are not JSON, NaN and absent series.
import { errorPageKind, isObject, request, type JsonAnswer } from "./http";
import { SourceError, type SourceErrorKind } from "./sourceError";

export const PROMETHEUS_BASE = "/prometheus/api/v1";

export type Labels = Record<string, string>;
/** A value of a sample; null where Prometheus says NaN (no meaningful reading). */
export type Value = number | null;
export interface Sample {
  labels: Labels;
  value: Value;
}
export type Point = [t: number, v: Value];
export interface Series {
  labels: Labels;
  points: Point[];
}

export function parseValue(text: unknown): Value {
  if (typeof text !== "string") return null;
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  const n = Number(text);
  return Number.isNaN(n) ? null : n;
}

/** The `data` of a successful envelope, or a SourceError saying what went wrong. */
export function unwrap(answer: JsonAnswer): Record<string, unknown> {
  const body = answer.body;
  if (isObject(body) && body.status === "error") {
    throw new SourceError(
      envelopeKind(answer.status, body),
      `${String(body.errorType ?? "error")}: ${String(body.error ?? "")}`,
      answer.status,
    );
  }
  if (answer.status >= 500) {
    throw new SourceError(errorPageKind(answer), `HTTP ${answer.status}`, answer.status);
  }
  if (answer.status >= 400) {
    throw new SourceError("refused", `HTTP ${answer.status}`, answer.status);
  }
  if (!isObject(body) || body.status !== "success" || !isObject(body.data)) {
    throw new SourceError("bad_answer", "not a Prometheus API answer", answer.status);
  }
  return body.data;
}

/**
 * What an error envelope means. Below 500 Prometheus refused the query (bad_data 400,
 * execution 422). A 503 "timeout" or "canceled" is Prometheus's own: the query ran out of time,
 * it is busy. nginx's envelope for a Prometheus that does not answer (nginx/balupi.conf,
 * @prometheus_down) says "unavailable", as does Prometheus's 500 for a TSDB not open yet.
 */
function envelopeKind(status: number, body: Record<string, unknown>): SourceErrorKind {
  if (status < 500) return "refused";
  if (body.errorType === "timeout" || body.errorType === "canceled") return "busy";
  if (body.errorType === "unavailable") return "unreachable";
  return "refused";
}

function labelsOf(item: Record<string, unknown>): Labels {
  return isObject(item.metric) ? (item.metric as Labels) : {};
}

export function parseVector(data: Record<string, unknown>): Sample[] {
  if (data.resultType === "scalar" && Array.isArray(data.result)) {
    return [{ labels: {}, value: parseValue(data.result[1]) }];
  }
  if (data.resultType !== "vector" || !Array.isArray(data.result)) {
    throw new SourceError("bad_answer", `expected a vector, got ${String(data.resultType)}`);
  }
  return data.result.filter(isObject).map((item) => ({
    labels: labelsOf(item),
    value: Array.isArray(item.value) ? parseValue(item.value[1]) : null,
  }));
}

export function parseMatrix(data: Record<string, unknown>): Series[] {
  if (data.resultType !== "matrix" || !Array.isArray(data.result)) {
    throw new SourceError("bad_answer", `expected a matrix, got ${String(data.resultType)}`);
  }
  return data.result.filter(isObject).map((item) => ({
    labels: labelsOf(item),
    points: (Array.isArray(item.values) ? item.values : [])
      .filter((p): p is unknown[] => Array.isArray(p))
      .map((p): Point => [Number(p[0]), parseValue(p[1])]),
  }));
}

/** An instant query, evaluated now or at ``time`` (unix seconds). */
export async function queryInstant(promql: string, signal?: AbortSignal, time?: number): Promise<Sample[]> {
  const params = new URLSearchParams({ query: promql });
  if (time !== undefined) params.set("time", String(time));
  const url = `${PROMETHEUS_BASE}/query?${params}`;
  return parseVector(unwrap(await request(url, signal ? { signal } : {})));
}

export async function queryRange(
  promql: string,
  start: number,
  end: number,
  step: number,
  signal?: AbortSignal,
): Promise<Series[]> {
  const params = new URLSearchParams({
    query: promql,
    start: String(start),
    end: String(end),
    step: String(step),
  });
  const url = `${PROMETHEUS_BASE}/query_range?${params}`;
  return parseMatrix(unwrap(await request(url, signal ? { signal } : {})));
}

// Picking samples out of one answer that holds several metrics (a `{__name__=~"a|b"}` query).

export function byName(samples: Sample[], name: string): Sample[] {
  return samples.filter((s) => s.labels.__name__ === name);
}

/** The one value of ``name`` (matching ``labels``), or undefined when the series is absent. */
export function valueOf(samples: Sample[], name: string, labels: Labels = {}): Value | undefined {
  const found = byName(samples, name).find((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}

/** ``up`` of a scrape job: true, false, or undefined when Prometheus has no such target. */
export function jobUp(samples: Sample[], job: string): boolean | undefined {
  const v = valueOf(samples, "up", { job });
  return v === undefined || v === null ? undefined : v === 1;
}
