// The dashboard as a person uses it, in Debian's Chromium (playwright-core), against the real
// stack that tests/test_dashboard_e2e.py started: nginx, Prometheus, the services, the simulators.
//
// Input: BALUPI_E2E (JSON: url, plug, nasControl, out, timezone: the stack's or null, and
// onlineWatts, asleepWatts: what the plug reads while the NAS runs and sleeps). Parts of
// the stack only Python can stop and start are asked for on stdout ("@@ask {...}") and
// confirmed on stdin, one line each.
// Each step waits for what a person would see (polled by Playwright), never for a fixed time.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createInterface } from "node:readline";

const config = JSON.parse(process.env.BALUPI_E2E ?? "{}");
const TIMEOUT = 30_000;
const input = createInterface({ input: process.stdin });
const lines = input[Symbol.asyncIterator]();

async function ask(request) {
  process.stdout.write(`@@ask ${JSON.stringify(request)}\n`);
  const { value, done } = await lines.next();
  const answer = done ? {} : JSON.parse(value);
  if (answer.ok !== true) throw new Error(`not done: ${JSON.stringify(request)}: ${answer.why ?? "no answer"}`);
}

async function post(url, body) {
  const answer = await fetch(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  if (!answer.ok) throw new Error(`${url} answered ${answer.status}`);
  return answer.json();
}

function step(name) {
  process.stdout.write(`step: ${name}\n`);
}

// A panel is the dashboard's <section data-panel="...">: nas, power, usage, pihole, snapshot,
// inbox, pi.
function panel(page, id) {
  return page.locator(`section[data-panel="${id}"]`);
}

async function see(locator, text) {
  await locator.getByText(text).first().waitFor({ state: "visible", timeout: TIMEOUT });
}

async function notSee(locator, text) {
  const found = await locator.getByText(text).count();
  if (found > 0) throw new Error(`did not expect ${text} in ${await locator.first().innerText()}`);
}

const LANGUAGES = {
  en: {
    locale: "en-GB",
    asleep: "asleep", online: "online", unreachable: "unreachable", wake: "Wake the NAS",
    waking: /Waking…/, onlineAfter: /online after/,
    // nginx answers 503 in Prometheus's JSON: the dashboard may call it down or starting.
    prometheusDown: /Prometheus is not answering|Prometheus is starting up/,
    piholeDown: "Pi-hole is not answering the exporter",
    watts: (w) => `${w.toLocaleString("en", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} W`,
    files: "12,345",
    inboxWaiting: "1 file, 2.4 MB", oldest: /oldest waits for/, moveNow: "Move now",
    moveDone: "Done: 1 file moved.", allMoved: / · all moved/, movedOne: /^1 file moved$/,
    moveFailed: "Nothing moved; the files wait in the inbox.", failed: / · failed/,
    whyRefused: /^Why: .*Connection refused$/, lastMove: "Last move to the NAS",
    // The switch to the other language, and a heading in it.
    other: { button: "Deutsch", heading: "Strom" },
  },
  de: {
    locale: "de-DE",
    asleep: "schläft", online: "online", unreachable: "nicht erreichbar", wake: "NAS aufwecken",
    waking: /Wacht auf…/, onlineAfter: /ist nach .* online/,
    prometheusDown: /Prometheus antwortet nicht|Prometheus startet gerade/,
    piholeDown: "Pi-hole antwortet dem Exporter nicht",
    watts: (w) => `${w.toLocaleString("de", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} W`,
    files: "12.345",
    lastMove: "Zuletzt zum NAS verschoben",
    other: { button: "English", heading: "Power" },
  },
};

const VIEWPORTS = {
  phone: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 900 } },
};

async function run(browser, lang, device, scenario) {
  const t = LANGUAGES[lang];
  const zone = config.timezone ? { timezoneId: config.timezone } : {};
  const context = await browser.newContext({ locale: t.locale, ...zone, ...VIEWPORTS[device] });
  const page = await context.newPage();
  const problems = [];
  // Chromium logs every answer with an error status itself: a source stopped on purpose (502,
  // 503) answers so. Any other console error (a thrown exception, a CSP refusal, a React
  // warning, a 4xx) fails.
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const where = message.location().url ?? "";
    const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
    if (failed && /^50[23]$/.test(failed[1])) return;
    problems.push(`console: ${message.text()} (${where})`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.goto(config.url, { waitUntil: "load" });
  await scenario(page, t, `${lang}-${device}`);
  await context.close();
  if (problems.length) throw new Error(`${lang}/${device}: ${problems.join("\n")}`);
}

async function shot(page, name) {
  mkdirSync(config.out, { recursive: true });
  await page.screenshot({ path: `${config.out}/${name}.png`, fullPage: true });
  process.stdout.write(`screenshot: ${config.out}/${name}.png\n`);
}

// Everything a person does, once (English, desktop).
async function everything(page, t, name) {
  const power = panel(page, "power");
  const nas = panel(page, "nas");
  step("the plug's watts, and a change of its draw");
  await see(power, t.watts(config.onlineWatts));
  await post(config.plug, { power_watts: 45 });
  await see(power, t.watts(45));

  step("today's energy moves with the live answers; its open hour is not asked again");
  // The open piece's request answers the counters with its evaluation time (src/queryPlan.ts:
  // following); between two of them the figure moves with the live request (src/since.ts).
  let openAsks = 0;
  const countOpen = (request) => {
    const query = new URL(request.url()).searchParams.get("query") ?? "";
    if (query.includes("evaluated_at") && query.includes("tapo_energy_joules_total @")) openAsks += 1;
  };
  page.on("request", countOpen);
  const today = power.locator("div.stat", { hasText: "Energy today" }).locator("dd").first();
  const before = await today.innerText();
  await post(config.plug, { power_watts: 3600 }); // 1 Wh a second: 0.01 kWh in 10 s
  for (const seen = new Set([before]); seen.size < 3; ) {
    await page.waitForFunction(
      ([el, known]) => !known.includes(el.textContent),
      [await today.elementHandle(), [...seen]],
      { timeout: TIMEOUT },
    );
    seen.add(await today.innerText());
  }
  page.off("request", countOpen);
  // An hour may begin meanwhile: then its new open piece is asked once.
  if (openAsks > 1) throw new Error(`the open hour was asked ${openAsks} times while the figure moved`);
  await post(config.plug, { power_watts: 45 });

  step("the history: each of the last seven days has its hours online");
  await page.waitForFunction(() => {
    const values = [...document.querySelectorAll('section[data-panel="usage"] .bar-value')];
    return values.length === 7 && values.every((v) => v.textContent !== "–");
  }, null, { timeout: TIMEOUT });

  step("the NAS shuts down: asleep, and its snapshot appears");
  await post(config.nasControl, { action: "shutdown" });
  await see(nas, t.asleep);
  await see(panel(page, "snapshot"), t.files);
  await see(power, t.watts(config.asleepWatts)); // the plug reads the NAS's standby draw
  await shot(page, `${name}-asleep`);

  step("the Wake button: progress, then online");
  await nas.getByRole("button", { name: t.wake }).click();
  await see(nas, t.waking);
  await see(nas, t.onlineAfter);
  await see(power, t.watts(config.onlineWatts));
  await shot(page, `${name}-woken`);

  step("the inbox: a file waits, with its size and age; Move now sends it to the NAS");
  const inbox = panel(page, "inbox");
  await ask({ drop: "holiday-2026.zip" });
  await page.reload({ waitUntil: "load" }); // looking again: the oldest file's age is asked at load
  await see(inbox, t.inboxWaiting);
  await see(inbox, t.oldest);
  await inbox.getByRole("button", { name: t.moveNow }).click();
  await see(inbox, t.moveDone);
  await see(inbox, t.allMoved);
  await see(inbox, t.movedOne);
  await inbox.getByText("empty", { exact: true }).waitFor({ timeout: TIMEOUT });
  await ask({ arrived: "holiday-2026.zip" });
  await shot(page, `${name}-inbox`);

  step("the NAS dies: unreachable");
  await post(config.nasControl, { action: "kill" });
  await see(nas, t.unreachable);
  await post(config.nasControl, { action: "revive" });
  await see(nas, t.online);

  step("the NAS's SSH is gone: Move now fails and says why, the file waits; then it moves");
  await ask({ stop: "nas_ssh" });
  await ask({ drop: "tax-return.pdf" });
  await see(inbox, t.inboxWaiting);
  await inbox.getByRole("button", { name: t.moveNow }).click();
  await see(inbox, t.moveFailed);
  await see(inbox, t.failed);
  await see(inbox, t.whyRefused);
  await see(inbox, t.inboxWaiting);
  await shot(page, `${name}-inbox-failed`);
  await ask({ start: "nas_ssh" });
  await inbox.getByRole("button", { name: t.moveNow }).click();
  await see(inbox, t.moveDone);
  await see(inbox, t.allMoved);
  await ask({ arrived: "tax-return.pdf" });

  step("Pi-hole stops: only its panel says so");
  await ask({ stop: "pihole" });
  await see(panel(page, "pihole"), t.piholeDown);
  await notSee(power, t.piholeDown);
  await notSee(nas, t.piholeDown);
  await see(power, t.watts(config.onlineWatts));
  await ask({ start: "pihole" });

  step("Prometheus stops: the live panels say so, the NAS's status still works");
  await ask({ stop: "prometheus" });
  await see(power, t.prometheusDown);
  await see(panel(page, "pi"), t.prometheusDown);
  await notSee(nas, t.prometheusDown);
  await post(config.nasControl, { action: "shutdown" });
  await see(nas, t.asleep);
  await shot(page, `${name}-prometheus-down`);
  await ask({ start: "prometheus" });
  await see(power, t.watts(config.asleepWatts));
}

// The other language and the other screen: every panel shows its data, as a screenshot.
async function glance(page, t, name) {
  step(`${name}: every panel with data`);
  try {
    await page.waitForFunction(() => {
      const sections = [...document.querySelectorAll("section[data-panel]")];
      return sections.length >= 7 && sections.every((s) => s.dataset.state === "live");
    }, null, { timeout: TIMEOUT });
  } catch (err) {
    // Which panel is not live, and what it says, instead of only a timeout.
    const states = await page.$$eval("section[data-panel]", (all) =>
      all.map((s) => `${s.dataset.panel}=${s.dataset.state}: ${(s.textContent ?? "").slice(0, 160)}`),
    );
    await shot(page, `${name}-not-live`);
    throw new Error(`${name}: not every panel live within ${TIMEOUT} ms:\n${states.join("\n")}\n${err}`);
  }
  await see(panel(page, "power"), t.watts(config.asleepWatts));
  await see(panel(page, "snapshot"), t.files);
  await see(panel(page, "nas"), t.asleep);
  await see(panel(page, "inbox"), t.lastMove);
  await shot(page, name);
  step(`${name}: switched to the other language (its dictionary fetched now)`);
  await page.getByRole("button", { name: t.other.button }).click();
  await page.getByRole("heading", { name: t.other.heading, exact: true }).waitFor({ state: "visible", timeout: TIMEOUT });
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
try {
  await run(browser, "en", "desktop", everything);
  await run(browser, "de", "phone", glance);
  await run(browser, "en", "phone", glance);
  await run(browser, "de", "desktop", glance);
  process.stdout.write("e2e: passed\n");
} finally {
  await browser.close();
  input.close();
  process.stdin.destroy(); // else the open stdin keeps node running
}
