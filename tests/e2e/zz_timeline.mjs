import { chromium } from "playwright-core";
const url = process.env.URL;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (const rate of [1, 4]) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  const t0 = Date.now();
  const rows = [];
  page.on("requestfinished", async (r) => {
    const t = r.timing();
    rows.push([Math.round(t.startTime - t0), Math.round(t.responseEnd), r.url().replace(url, "").slice(0, 110)]);
  });
  await page.goto(url, { waitUntil: "commit" });
  const h = await page.waitForFunction(() => {
    const s = [...document.querySelectorAll("section[data-panel]")];
    const seen = (window.__seen ??= {});
    if (s.length) seen.first ??= Math.round(performance.now());
    for (const x of s) seen[x.dataset.panel + ":" + x.dataset.state] ??= Math.round(performance.now());
    return s.length >= 7 && s.every((x) => x.dataset.state === "live") ? seen : false;
  }, null, { polling: "raf", timeout: 60000 });
  console.log("rate", rate, "seen", JSON.stringify(await h.jsonValue()));
  rows.sort((a, b) => a[0] - b[0]);
  for (const r of rows) console.log(r.join("\t"));
  await context.close();
}
await browser.close();
