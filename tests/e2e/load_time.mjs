// bench.dashboard_load's browser half: the time from navigation until every panel of the
// dashboard shows data (each <section data-panel> is data-state="live"), in a fresh context
// (cold cache) of Debian's headless Chromium, unthrottled and with the CPU throttled 4x.
//
// Input: BALUPI_LOAD (JSON: url, runs, rates). Output: one JSON line per run.
import { chromium } from "playwright-core";

const { url, runs = 5, rates = [1, 4], panels = 7 } = JSON.parse(process.env.BALUPI_LOAD ?? "{}");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});

async function once(rate) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  await page.goto(url, { waitUntil: "commit" });
  // Measured in the page, from its navigation start, when the last panel turns live (and when
  // each one did, to tell which one is last).
  const handle = await page.waitForFunction(
    (count) => {
      const sections = [...document.querySelectorAll("section[data-panel]")];
      const first = (window.__balupiLive ??= {});
      for (const s of sections) {
        if (s.dataset.state === "live") first[s.dataset.panel] ??= Math.round(performance.now());
      }
      const live = sections.length >= count && sections.every((s) => s.dataset.state === "live");
      return live ? { ms: performance.now(), panels: first } : false;
    },
    panels,
    { polling: "raf", timeout: 60_000 },
  );
  const result = await handle.jsonValue();
  await context.close();
  return result;
}

try {
  await once(1); // warms nginx, Prometheus and the OS caches, not the browser's (fresh context)
  for (let i = 0; i < runs; i++) {
    for (const rate of rates) {
      process.stdout.write(`${JSON.stringify({ rate, ...(await once(rate)) })}\n`);
    }
  }
} finally {
  await browser.close();
}
