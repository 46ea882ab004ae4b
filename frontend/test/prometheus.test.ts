import { afterEach, describe, expect, it, vi } from "vitest";
import {
  jobUp,
  parseMatrix,
  parseValue,
  parseVector,
  queryInstant,
  queryRange,
  unwrap,
  valueOf,
} from "../src/api/prometheus";
import type { JsonAnswer } from "../src/api/http";
import { SourceError } from "../src/api/sourceError";
import { problemText } from "../src/components/Panel";
import { de } from "../src/i18n/de";
import { en } from "../src/i18n/en";

function answer(status: number, text: string, type = "application/json"): JsonAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, text, body, headers: new Headers({ "Content-Type": type }) };
}

function fetchAnswering(status: number, text: string, type = "application/json") {
  const fn = vi.fn(async (_url: string, _init?: RequestInit) => new Response(text, { status, headers: { "Content-Type": type } }));
  vi.stubGlobal("fetch", fn);
  return fn;
}

afterEach(() => vi.unstubAllGlobals());

function kindOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (err) {
    return err instanceof SourceError ? err.kind : "other";
  }
  return undefined;
}

describe("Prometheus's answers", () => {
  it("reads the error envelope as a refusal with its message", () => {
    const a = answer(400, '{"status":"error","errorType":"bad_data","error":"parse error at char 3"}');
    expect(kindOf(() => unwrap(a))).toBe("refused");
    expect(() => unwrap(a)).toThrow("bad_data: parse error at char 3");
  });

  // The answers below were recorded from Debian 12's Prometheus 2.42 and from nginx/balupi.conf.
  it("reads nginx's envelope for a Prometheus that does not answer as unreachable", () => {
    const down = '{"status":"error","errorType":"unavailable","error":"Prometheus is not answering"}\n';
    expect(kindOf(() => unwrap(answer(503, down)))).toBe("unreachable");
  });

  it("reads Prometheus's own 503 for a query out of time as busy, not starting", () => {
    const timeout = '{"status":"error","errorType":"timeout","error":"query timed out in query queue"}';
    const a = answer(503, timeout);
    expect(kindOf(() => unwrap(a))).toBe("busy");
    expect(() => unwrap(a)).toThrow("timeout: query timed out in query queue");
  });

  it("reads nginx's HTML error pages as unreachable, a 503 one too", () => {
    const bad = answer(502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n", "text/html");
    expect(kindOf(() => unwrap(bad))).toBe("unreachable");
    const busy = answer(503, "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n</html>\r\n", "text/html");
    expect(kindOf(() => unwrap(busy))).toBe("unreachable");
  });

  it("reads Prometheus's plain-text 503 while its TSDB loads as starting", () => {
    expect(kindOf(() => unwrap(answer(503, "Service Unavailable", "text/plain; charset=utf-8")))).toBe("starting");
  });

  it("reads Prometheus 3's not-ready answer by its stopping header", () => {
    const notReady = (stopping: string): JsonAnswer => ({
      status: 503,
      text: "Service Unavailable",
      body: undefined,
      headers: new Headers({ "Content-Type": "text/plain; charset=utf-8", "X-Prometheus-Stopping": stopping }),
    });
    expect(kindOf(() => unwrap(notReady("false")))).toBe("starting");
    expect(kindOf(() => unwrap(notReady("true")))).toBe("unreachable");
  });

  it("reads any other plain-text 5xx as unreachable, never as starting", () => {
    expect(kindOf(() => unwrap(answer(503, "503: Service Unavailable", "text/plain")))).toBe("unreachable");
    expect(kindOf(() => unwrap(answer(500, "Service Unavailable", "text/plain")))).toBe("unreachable");
  });

  it("puts each answer into the panel's words, in both languages", () => {
    const said = (a: JsonAnswer) => {
      let error: SourceError | null = null;
      try {
        unwrap(a);
      } catch (err) {
        error = err as SourceError;
      }
      const state = { kind: "down" as const, source: "prometheus" as const, error, updatedAt: null };
      return [problemText(en, state), problemText(de, state)];
    };
    expect(said(answer(503, "Service Unavailable", "text/plain; charset=utf-8"))).toEqual([
      "Prometheus is starting up",
      "Prometheus startet gerade",
    ]);
    expect(said(answer(503, '{"status":"error","errorType":"unavailable","error":"Prometheus is not answering"}'))).toEqual([
      "Prometheus is not answering",
      "Prometheus antwortet nicht",
    ]);
    expect(said(answer(503, '{"status":"error","errorType":"timeout","error":"query timed out in query queue"}'))).toEqual([
      "Prometheus is busy: a query took too long",
      "Prometheus ist ausgelastet: eine Abfrage dauerte zu lange",
    ]);
  });

  it("refuses a 200 that is not an API answer", () => {
    expect(kindOf(() => unwrap(answer(200, "<html>captive portal</html>", "text/html")))).toBe("bad_answer");
    expect(kindOf(() => unwrap(answer(200, '{"status":"success"}')))).toBe("bad_answer");
  });

  it("turns NaN into a missing value, keeps infinities, never invents 0", () => {
    expect(parseValue("NaN")).toBeNull();
    expect(parseValue("+Inf")).toBe(Infinity);
    expect(parseValue("-Inf")).toBe(-Infinity);
    expect(parseValue("38.5")).toBe(38.5);
    expect(parseValue(undefined)).toBeNull();
  });

  it("reports an absent series as undefined, not 0", () => {
    const samples = parseVector({
      resultType: "vector",
      result: [
        { metric: { __name__: "tapo_power_watts", plug: "nas" }, value: [1, "NaN"] },
        { metric: { __name__: "up", job: "tapo" }, value: [1, "1"] },
      ],
    });
    expect(valueOf(samples, "tapo_power_watts", { plug: "nas" })).toBeNull();
    expect(valueOf(samples, "tapo_power_watts", { plug: "tv" })).toBeUndefined();
    expect(jobUp(samples, "tapo")).toBe(true);
    expect(jobUp(samples, "pihole")).toBeUndefined();
  });

  it("parses a matrix with NaN points as gaps", () => {
    const series = parseMatrix({
      resultType: "matrix",
      result: [{ metric: { plug: "nas" }, values: [[100, "1"], [115, "NaN"]] }],
    });
    expect(series[0]?.points).toEqual([[100, 1], [115, null]]);
    expect(kindOf(() => parseMatrix({ resultType: "vector", result: [] }))).toBe("bad_answer");
  });

  it("sends GETs to the read-only path and turns a dropped connection into unreachable", async () => {
    const fn = fetchAnswering(200, '{"status":"success","data":{"resultType":"vector","result":[]}}');
    await expect(queryInstant('up{job="tapo"}')).resolves.toEqual([]);
    const url = String(fn.mock.calls[0]?.[0]);
    expect(url.startsWith("/prometheus/api/v1/query?query=")).toBe(true);
    expect(decodeURIComponent(url)).toContain('up{job="tapo"}');
    expect(fn.mock.calls[0]?.[1]?.method).toBeUndefined();

    fetchAnswering(200, '{"status":"success","data":{"resultType":"matrix","result":[]}}');
    await expect(queryRange("x", 0, 600, 300)).resolves.toEqual([]);

    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(queryInstant("up")).rejects.toMatchObject({ kind: "unreachable" });
  });
});
