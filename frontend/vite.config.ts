// The dashboard's build: hashed assets in ../frontend-dist, byte-identical for the same input,
// each asset also precompressed (.gz) for nginx's gzip_static. `npm run dev` proxies the three
// same-origin sources to the demo stack (`make demo`), as nginx does on the Pi.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import { EVALUATED_AT, OTHER_SOURCES, PRICE, QUERIES } from "./src/queryPlan.ts";
import { MAX_POINTS, NICE_STEPS, SCRAPE_INTERVAL_SECONDS } from "./src/range.ts";
import { DEFAULT_INTERVAL_MS, SCRAPE_SETTLE_MS } from "./src/scrape.ts";
import { MIN_OPEN_SECONDS, SETTLE_SECONDS } from "./src/since.ts";

const DEMO_SNAPSHOT_DIR = resolve(import.meta.dirname, "../.demo/handshake/snapshot");

// Gzip each emitted script, stylesheet and JSON at level 9, from the files as written: Vite still
// rewrites chunks in its own generateBundle (the lazy chart's preload list), so a .gz taken there
// could keep its placeholders. zlib writes no timestamp or file name into the gzip header, so
// the .gz files are as reproducible as the assets themselves.
function precompress(): Plugin {
  return {
    name: "balupi-precompress",
    apply: "build",
    writeBundle(options, bundle) {
      const dir = options.dir ?? "";
      for (const fileName of Object.keys(bundle)) {
        if (!/\.(js|css|json)$/.test(fileName)) continue;
        const path = resolve(dir, fileName);
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }));
      }
    },
  };
}

// The query plan as JSON beside the app, for the benchmarks that replay an open dashboard.
function queryPlanJson(): Plugin {
  return {
    name: "balupi-query-plan",
    apply: "build",
    generateBundle() {
      const plan = {
        placeholders: {
          $step: "a range query's step in seconds ([$steps] becomes [300s])",
          $from: "a \"since\" figure's piece: its start, unix seconds (@ $from becomes @ 1764543600)",
          $range: "a \"since\" figure's piece: its length in seconds ([$ranges] becomes [3600s])",
          $reach: "a \"since\" figure's piece: its length plus the 5-minute lookback of @ $from",
        },
        // How a "since" figure is cut (src/since.ts): since the 1st = (1st, today's midnight]
        // asked at midnight + today's; today = (midnight, last full hour] asked at that hour +
        // (last full hour, now] asked now (at least 60 s). A closed piece is asked once (again
        // only if it was asked within settle_seconds of its end), the open one once (see follow).
        since: { settle_seconds: SETTLE_SECONDS, min_open_seconds: MIN_OPEN_SECONDS, hour_seconds: 3600 },
        // A query with followsScrape is asked just after each scrape (src/scrape.ts).
        scrape: { default_interval_ms: DEFAULT_INTERVAL_MS, settle_ms: SCRAPE_SETTLE_MS, learnt_from_answers: true },
        // A "since" query with `follow` asks its open piece once (with `follow.open`, again after
        // a counter reset) and moves it by what the counters of `follow.parts` grew since: the
        // live request carries them, the price and its evaluation time (src/since.ts: followLive).
        follow: { evaluated_at: EVALUATED_AT, price: PRICE },
        // How a chart picks its step and refreshes (src/range.ts): the smallest nice step with
        // at most max_points points; end = the next multiple of the step after now; a "tail"
        // refresh asks from the previous end to the new one.
        charts: { max_points: MAX_POINTS, nice_steps_seconds: NICE_STEPS, min_step_seconds: SCRAPE_INTERVAL_SECONDS },
        queries: Object.values(QUERIES),
        other_sources: OTHER_SOURCES,
      };
      this.emitFile({
        type: "asset",
        fileName: "query-plan.json",
        source: `${JSON.stringify(plan, null, 2)}\n`,
      });
    },
  };
}

// A tiny static server for the demo's snapshot folder in dev (nginx's /snapshot/ on the Pi).
function demoSnapshot(): Plugin {
  const serve = async (req: { url?: string }, res: import("node:http").ServerResponse) => {
    const name = (req.url ?? "").replace(/^\//, "").split("?")[0];
    const { readFile } = await import("node:fs/promises");
    try {
      if (name !== "snapshot.json" && name !== "snapshot.previous.json") throw new Error("not served");
      const body = await readFile(resolve(DEMO_SNAPSHOT_DIR, name));
      res.setHeader("Content-Type", "application/json");
      res.end(body);
    } catch {
      res.statusCode = 404;
      res.end("not found");
    }
  };
  return {
    name: "balupi-demo-snapshot",
    configureServer(server) {
      server.middlewares.use("/snapshot/", (req, res) => void serve(req, res));
    },
    configurePreviewServer(server) {
      server.middlewares.use("/snapshot/", (req, res) => void serve(req, res));
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [react(), queryPlanJson(), precompress(), demoSnapshot()],
  build: {
    outDir: process.env.BALUPI_FRONTEND_OUT ?? resolve(import.meta.dirname, "../frontend-dist"),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    reportCompressedSize: false,
    target: "es2022",
    // Every browser of the es2022 target but Safari < 17 knows modulepreload; there the lazy
    // chart's preload is only skipped, so the polyfill's bytes are not worth the first load.
    modulePreload: { polyfill: false },
  },
  // `npx vite preview` serves frontend-dist/ under the Pi's Content-Security-Policy
  // (nginx/balupi.conf), so a build that breaks it shows here too.
  preview: {
    host: "127.0.0.1",
    headers: {
      "Content-Security-Policy":
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    },
  },
  server: {
    host: "127.0.0.1",
    port: Number(process.env.BALUPI_DEV_PORT ?? 5173),
    proxy: {
      "/prometheus": {
        target: process.env.BALUPI_PROMETHEUS ?? "http://127.0.0.1:9090",
        rewrite: (path) => path.replace(/^\/prometheus/, ""),
      },
      "/api": { target: process.env.BALUPI_HANDSHAKE ?? "http://127.0.0.1:8000" },
    },
  },
});
