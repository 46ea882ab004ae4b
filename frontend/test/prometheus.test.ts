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

  it("reads the site's 503 envelopes as down or starting", () => {
    const down = '{"status":"error","errorType":"unavailable","error":"Prometheus is not answering"}';
    const starting = '{"status":"error","errorType":"unavailable","error":"Prometheus is starting or overloaded"}';
    expect(kindOf(() => unwrap(answer(503, down)))).toBe("unreachable");
    expect(kindOf(() => unwrap(answer(503, starting)))).toBe("starting");
  });

  it("reads nginx's 502 HTML page as Prometheus not answering", () => {
    const a = answer(502, "<html><head><title>502 Bad Gateway</title></head></html>", "text/html");
    expect(kindOf(() => unwrap(a))).toBe("unreachable");
  });

  it("reads Prometheus's plain-text 503 while starting as starting", () => {
    expect(kindOf(() => unwrap(answer(503, "Service Unavailable", "text/plain")))).toBe("starting");
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
