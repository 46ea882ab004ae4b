import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";
const url = process.env.URL;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (let run = 0; run < 2; run++) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
  await cdp.send("Profiler.start");
  await page.goto(url, { waitUntil: "commit" });
  const h = await page.waitForFunction(() => {
    const s = [...document.querySelectorAll("section[data-panel]")];
    return s.length >= 7 && s.every((x) => x.dataset.state === "live") ? performance.now() : false;
  }, null, { polling: "raf", timeout: 60000 });
  const ms = await h.jsonValue();
  const { profile } = await cdp.send("Profiler.stop");
  // self time by function+url
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const cf = n.callFrame;
    const key = `${cf.functionName || "(anon)"} ${cf.url.split("/").pop()}:${cf.lineNumber}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0));
  });
  const byUrl = new Map();
  profile.samples.forEach((id, i) => {
    const cf = byId.get(id).callFrame;
    const key = cf.url ? cf.url.split("/").pop() : `(${cf.functionName})`;
    byUrl.set(key, (byUrl.get(key) ?? 0) + (dt[i] ?? 0));
  });
  console.log("run", run, "live at", Math.round(ms));
  console.log("by url (ms):", [...byUrl].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([k, v]) => `${k} ${Math.round(v / 1000)}`).join(", "));
  console.log("top self:", [...self].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${k} ${Math.round(v / 1000)}`).join("\n  "));
  await context.close();
}
await browser.close();
