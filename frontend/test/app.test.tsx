// The page against answers shaped like the real services': each panel keeps its own state.
// Only the network (fetch) is replaced; every module of ours runs as in the browser.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "../src/App";
import { LanguageProvider, STORAGE_KEY } from "../src/i18n/language";
import type { Lang } from "../src/format";
import { SNAPSHOT, status, vector } from "./fixtures";

type Route = (url: string, init?: RequestInit) => Response | Promise<Response>;

const json = (body: unknown, code = 200) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), { status: code, headers: { "Content-Type": "application/json" } });
const EMPTY_VECTOR = vector([]);
const EMPTY_MATRIX = JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } });

type Rows = [Record<string, string>, string][];

// The live request holds every live panel's series (queryPlan.ts: live); a test replaces the
// rows of one part (the plug's, Pi-hole's) to change what one panel sees.
const NORMAL_LIVE = {
  power: [
    [{ __name__: "tapo_power_watts", plug: "nas" }, "38.5"],
    [{ __name__: "tapo_up", plug: "nas" }, "1"],
    [{ __name__: "up", job: "tapo" }, "1"],
  ] as Rows,
  pihole: [
    [{ __name__: "pihole_up", hostname: "127.0.0.1" }, "1"],
    [{ __name__: "pihole_dns_queries_today", hostname: "127.0.0.1" }, "1227"],
    [{ __name__: "pihole_ads_blocked_today", hostname: "127.0.0.1" }, "254"],
    [{ __name__: "pihole_status", hostname: "127.0.0.1" }, "1"],
    [{ __name__: "up", job: "pihole" }, "1"],
  ] as Rows,
};
let live = { ...NORMAL_LIVE };

function prometheus(query: string): Response {
  if (query.includes("tapo_power_watts") && query.includes("pihole_up")) return json(vector([...live.power, ...live.pihole]));
  if (query.includes("tapo_energy_joules_total")) return energy(query);
  return json(EMPTY_VECTOR);
}

// The energy pieces at 15 December 12:00 local (the test's frozen clock): the month's closed
// days (14 d), today's closed hours (00:00-11:00) and the open hour since 11:00 (since.ts). Two
// plugs; a cost only when priced. Today adds up to 0.48 kWh, the month to 14.2 kWh.
let priced = true;
function energy(query: string): Response {
  const piece = [`[${14 * 86400}s]`, "[39600s]", "[3600s]"].findIndex((r) => query.includes(r));
  if (piece < 0) return json(EMPTY_VECTOR);
  const nas = ["13.72", "0.44", "0.04"][piece]!;
  const pi = ["1.014", "0.03", "0.006"][piece]!;
  const rows: [Record<string, string>, string][] = [
    [{ plug: "nas", q: "kwh" }, nas],
    [{ plug: "pi", q: "kwh" }, pi],
  ];
  if (priced) rows.push([{ plug: "nas", q: "cost", currency: "EUR" }, ["4.3904", "0.1408", "0.0128"][piece]!]);
  return json(vector(rows));
}

let routes: { prometheus: Route; status: Route; snapshot: Route; wake: Route; flush: Route };
let calls: { url: string; init: RequestInit | undefined }[];

beforeEach(() => {
  calls = [];
  live = { ...NORMAL_LIVE };
  routes = {
    prometheus: (url) => {
      const u = new URL(url, "http://pi");
      return u.pathname.endsWith("/query_range") ? json(EMPTY_MATRIX) : prometheus(u.searchParams.get("query") ?? "");
    },
    status: () => json(status()),
    snapshot: () => json(SNAPSHOT),
    flush: () => json({ result: "ok", started_at: 1_764_583_200, duration_seconds: 1, moved_files: 3, moved_bytes: 10, error: null }),
    wake: () => json({ wol_sent: true, nas_previous_state: "offline", nas_state: "waking", wake_elapsed_seconds: 0, wake_timeout_seconds: 90 }, 202),
  };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string, init?: RequestInit) => {
      calls.push({ url: input, init });
      if (input.startsWith("/prometheus/")) return routes.prometheus(input, init);
      if (input === "/api/status") return routes.status(input, init);
      if (input === "/api/wake-nas") return routes.wake(input, init);
      if (input === "/api/inbox/flush") return routes.flush(input, init);
      if (input.startsWith("/snapshot/")) return routes.snapshot(input, init);
      return new Response("not found", { status: 404 });
    }),
  );
  window.localStorage.clear();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderApp(lang: Lang = "en") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <LanguageProvider initial={lang}>
        <App />
      </LanguageProvider>
    </QueryClientProvider>,
  );
}

const panel = (id: string) => document.querySelector(`[data-panel="${id}"]`) as HTMLElement;

describe("the dashboard", () => {
  it("shows live data in every panel with the NAS's watts big", async () => {
    renderApp();
    expect(await within(panel("power")).findByText("38.5 W")).toBeTruthy();
    expect(await within(panel("nas")).findByText("online")).toBeTruthy();
    expect(await within(panel("pihole")).findByText("1,227")).toBeTruthy();
    expect(panel("power").dataset.state).toBe("live");
  });

  it("says Pi-hole is down only in the Pi-hole panel", async () => {
    live.pihole = [[{ __name__: "pihole_up", hostname: "127.0.0.1" }, "0"], [{ __name__: "up", job: "pihole" }, "1"]];
    renderApp();
    expect(await within(panel("pihole")).findByText("Pi-hole is not answering the exporter")).toBeTruthy();
    expect(await within(panel("power")).findByText("38.5 W")).toBeTruthy();
    expect(panel("power").dataset.state).toBe("live");
    expect(panel("pihole").dataset.state).toBe("upstream_down");
  });

  it("keeps the NAS status when Prometheus answers with nginx's 502 page", async () => {
    routes.prometheus = () => new Response("<html><body>502 Bad Gateway</body></html>", { status: 502, headers: { "Content-Type": "text/html" } });
    renderApp();
    expect(await within(panel("power")).findByText("Prometheus is not answering")).toBeTruthy();
    expect(within(panel("pi")).getByText("Prometheus is not answering")).toBeTruthy();
    expect(await within(panel("nas")).findByText("online")).toBeTruthy();
    expect(panel("nas").dataset.state).toBe("live");
  });

  it("reads nginx's JSON 502 for a stopped handshake service as not answering, not refused", async () => {
    routes.status = () => json({ error: "the handshake service is not answering" }, 502);
    renderApp();
    expect(await within(panel("nas")).findByText("The handshake service is not answering")).toBeTruthy();
  });

  it("says when the handshake service is not answering, and the rest keeps working", async () => {
    routes.status = () => Promise.reject(new TypeError("Failed to fetch"));
    renderApp();
    expect(await within(panel("nas")).findByText("The handshake service is not answering")).toBeTruthy();
    expect(await within(panel("power")).findByText("38.5 W")).toBeTruthy();
    // The snapshot comes from nginx's folder, not the service: still shown.
    expect(await within(panel("snapshot")).findByText("optimal · healthy")).toBeTruthy();
  });

  it("shows energy and cost today and this month, for each plug, saying what each covers", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(2026, 11, 15, 12, 0, 0) });
    live.power = [
      [{ __name__: "tapo_power_watts", plug: "nas" }, "38.5"],
      [{ __name__: "tapo_power_watts", plug: "pi" }, "3"],
      [{ __name__: "tapo_up", plug: "nas" }, "1"],
      [{ __name__: "tapo_up", plug: "pi" }, "1"],
      [{ __name__: "up", job: "tapo" }, "1"],
    ];
    try {
      renderApp();
      const power = within(panel("power"));
      expect(await power.findByText("Energy today, since midnight")).toBeTruthy();
      expect(await power.findByText("0.48 kWh")).toBeTruthy();
      expect(await power.findByText("€0.15")).toBeTruthy();
      expect(await power.findByText("Energy this month, since December 1")).toBeTruthy();
      expect(await power.findByText("14.2 kWh")).toBeTruthy();
      expect(await power.findByText("€4.54")).toBeTruthy();
      expect(await power.findByText("today 0.04 kWh · this month 1.05 kWh")).toBeTruthy();
      expect(panel("power").dataset.state).toBe("live");
    } finally {
      vi.useRealTimers();
    }
  });

  it("asks for the live panels in one request and for each piece of the energy once", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(2026, 11, 15, 12, 0, 0) });
    try {
      renderApp();
      expect(await within(panel("power")).findByText("14.2 kWh")).toBeTruthy();
      expect(await within(panel("pihole")).findByText("1,227")).toBeTruthy();
      const queries = calls
        .filter((c) => c.url.startsWith("/prometheus/api/v1/query?"))
        .map((c) => new URL(c.url, "http://pi").searchParams);
      // Power, Pi-hole, the inbox and the Pi: one request.
      expect(queries.filter((q) => q.get("query")?.includes("pihole_up")).length).toBe(1);
      // Today's pieces are also the month's: the closed days, the closed hours and the open hour
      // once each, the closed ones evaluated at their end.
      const energy = queries.filter((q) => q.get("query")?.includes("tapo_energy_joules_total") && !q.get("query")?.includes("pihole_up"));
      expect(energy.length).toBe(3);
      const midnight = String(new Date(2026, 11, 15).getTime() / 1000);
      const eleven = String(new Date(2026, 11, 15, 11).getTime() / 1000);
      expect(energy.map((q) => q.get("time")).sort()).toEqual([midnight, eleven, null].sort());
    } finally {
      vi.useRealTimers();
    }
  });

  it("says how to get costs when no price is set, in German too", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date(2026, 11, 15, 12, 0, 0) });
    priced = false;
    try {
      renderApp("de");
      const power = within(panel("power"));
      expect(await power.findByText("Energie diesen Monat, seit 1. Dezember")).toBeTruthy();
      expect(await power.findByText("14,2 kWh")).toBeTruthy();
      expect((await power.findAllByText("tapo.price_per_kwh setzen für Kosten")).length).toBe(2);
    } finally {
      priced = true;
      vi.useRealTimers();
    }
  });

  it("shows a missing reading as missing, never 0 W", async () => {
    live.power = [[{ __name__: "tapo_power_watts", plug: "nas" }, "NaN"], [{ __name__: "tapo_up", plug: "nas" }, "1"]];
    renderApp();
    const power = panel("power");
    await within(power).findAllByText("no reading");
    expect(within(power).queryByText("0.0 W")).toBeNull();
  });

  it("asks for the snapshot only once the status names one, and shows no user names", async () => {
    renderApp();
    expect(await within(panel("snapshot")).findByText(/No snapshot yet/)).toBeTruthy();
    expect(calls.some((c) => c.url.startsWith("/snapshot/"))).toBe(false);
    cleanup();
    routes.status = () => json(status({ nas_state: "offline", last_snapshot: "2026-12-01T08:00:05Z" }));
    renderApp();
    expect(await within(panel("snapshot")).findByText("optimal · healthy")).toBeTruthy();
    expect(within(panel("snapshot")).getByText("degraded · needs attention")).toBeTruthy();
    expect(panel("snapshot").textContent).not.toContain("anna");
  });

  it("says BaluHost's backup states in words: a completed one, none, and not known", async () => {
    routes.status = () => json(status({ nas_state: "offline", last_snapshot: "2026-12-01T08:00:05Z" }));
    const withBackups = (backups: object) => () =>
      json({ ...SNAPSHOT, services: { ...SNAPSHOT.services, backups } });
    const backup = async () => {
      renderApp();
      const label = await within(panel("snapshot")).findByText("Last backup");
      const text = label.nextElementSibling?.textContent;
      cleanup();
      return text;
    };
    routes.snapshot = withBackups({ last_backup: "2026-11-30T03:00:00Z", status: "completed" });
    expect(await backup()).toMatch(/completed$/);
    routes.snapshot = withBackups({ last_backup: "2026-11-30T03:00:00Z", status: "in_progress" });
    expect(await backup()).toMatch(/running$/);
    routes.snapshot = withBackups({ last_backup: null, status: "none" });
    expect(await backup()).toBe("none");
    routes.snapshot = withBackups({ last_backup: null, status: "unknown" });
    expect(await backup()).toBe("unknown");
  });

  it("wakes the NAS with the dashboard's header and shows the progress", async () => {
    routes.status = () => json(status({ nas_state: "offline", dns: { ...status().dns, target: "pi", address: "192.168.1.20" } }));
    renderApp();
    const button = await within(panel("nas")).findByRole("button", { name: "Wake the NAS" });
    routes.status = () => json(status({ nas_state: "waking", wake: { in_progress: true, elapsed_seconds: 3, timeout_seconds: 90 } }));
    await act(async () => {
      fireEvent.click(button);
    });
    const post = calls.find((c) => c.url === "/api/wake-nas");
    expect(post?.init?.method).toBe("POST");
    const headers = post?.init?.headers as Record<string, string>;
    expect(headers["X-Requested-With"]).toBe("balupi-dashboard");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(await within(panel("nas")).findByText(/Waking… \d+ s of at most 90 s/)).toBeTruthy();
    expect(within(panel("nas")).queryByRole("button", { name: "Wake the NAS" })).toBeNull();
  });

  it("says a rate-limited wake in words", async () => {
    routes.status = () => json(status({ nas_state: "offline" }));
    routes.wake = () => new Response(JSON.stringify({ error: "rate-limited" }), { status: 429, headers: { "Retry-After": "25", "Content-Type": "application/json" } });
    renderApp();
    const button = await within(panel("nas")).findByRole("button", { name: "Wake the NAS" });
    await act(async () => {
      fireEvent.click(button);
    });
    expect(await within(panel("nas")).findByText("A wake-up signal went out a moment ago. Try again in 25 s.")).toBeTruthy();
  });
});

describe("more answers in words", () => {
  it("says the plug is not answering, with the watts missing", async () => {
    live.power = [[{ __name__: "tapo_up", plug: "nas" }, "0"], [{ __name__: "up", job: "tapo" }, "1"]];
    renderApp();
    expect(await within(panel("power")).findByText("The Tapo plug is not answering: no power readings")).toBeTruthy();
    expect(panel("pihole").dataset.state).not.toBe("upstream_down");
  });

  it("says why the service refused a wake (a cross-site refusal)", async () => {
    routes.status = () => json(status({ nas_state: "offline" }));
    routes.wake = () => json({ error: "refused: a request from another site" }, 403);
    renderApp();
    const button = await within(panel("nas")).findByRole("button", { name: "Wake the NAS" });
    await act(async () => {
      fireEvent.click(button);
    });
    expect(await within(panel("nas")).findByText("The handshake service refused the wake: refused: a request from another site")).toBeTruthy();
  });

  it("moves the inbox now while the NAS is online, with the dashboard's header", async () => {
    routes.status = () => json(status({ inbox: { ...status().inbox, files: 3, bytes: 10 } }));
    renderApp();
    const button = await within(panel("inbox")).findByRole("button", { name: "Move now" });
    await act(async () => {
      fireEvent.click(button);
    });
    expect(await within(panel("inbox")).findByText("Done: 3 files moved.")).toBeTruthy();
    const post = calls.find((c) => c.url === "/api/inbox/flush");
    expect((post?.init?.headers as Record<string, string>)["X-Requested-With"]).toBe("balupi-dashboard");
    expect(post?.init?.credentials).toBe("same-origin");
  });

  it("says a flush that moved nothing failed, and why (ssh's line of the report)", async () => {
    const error =
      "rsync exit 12: error in the rsync data stream (the NAS side stopped: disk full or gone): ssh: connect to host 127.0.0.1 port 2222: Connection refused" +
      " | rsync: connection unexpectedly closed (0 bytes received so far) [sender]";
    const failed = { result: "failed", started_at: Date.now() / 1000, duration_seconds: 0.1, moved_files: 0, moved_bytes: 0, error };
    let flushed = false;
    routes.status = () =>
      json(status({ inbox: { ...status().inbox, files: 1, bytes: 1000, ...(flushed ? { last_flush: failed, last_error: error } : {}) } }));
    routes.flush = () => {
      flushed = true;
      return json(failed);
    };
    renderApp();
    expect(await within(panel("inbox")).findByText("1 file, 1 kB")).toBeTruthy();
    const button = await within(panel("inbox")).findByRole("button", { name: "Move now" });
    await act(async () => {
      fireEvent.click(button);
    });
    const inbox = within(panel("inbox"));
    expect(await inbox.findByText("Nothing moved; the files wait in the inbox.")).toBeTruthy();
    expect(await inbox.findByText(/ · failed$/)).toBeTruthy();
    expect(inbox.getByText("0 files moved")).toBeTruthy();
    expect(
      inbox.getByText(
        "Why: rsync exit 12: error in the rsync data stream (the NAS side stopped: disk full or gone): ssh: connect to host 127.0.0.1 port 2222: Connection refused",
      ),
    ).toBeTruthy();
    expect(inbox.queryByText(/^Done/)).toBeNull();
  });

  it("offers no move while the NAS sleeps", async () => {
    routes.status = () => json(status({ nas_state: "offline", inbox: { ...status().inbox, files: 2, bytes: 10 } }));
    renderApp();
    expect(await within(panel("inbox")).findByText("Files move when the NAS is online.")).toBeTruthy();
    expect(within(panel("inbox")).queryByRole("button")).toBeNull();
  });
});

describe("language", () => {
  it("switches, and remembers the choice", async () => {
    renderApp("de");
    expect(await within(panel("nas")).findByText("online")).toBeTruthy();
    expect(screen.getByRole("heading", { name: "Strom" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "English" }));
    expect(screen.getByRole("heading", { name: "Power" })).toBeTruthy();
    expect(window.localStorage.getItem(STORAGE_KEY)).toBe("en");
    expect(document.documentElement.lang).toBe("en");
  });
});
