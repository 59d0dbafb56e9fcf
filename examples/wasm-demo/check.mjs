// Loads the demo in headless Chromium and checks it from the page's DOM and
// the server's counters; saves a screenshot.
//
//   node check.mjs <url> [screenshot.png]
//
// Needs playwright-core (npm) and Debian's chromium at /usr/bin/chromium.
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
const check = (ok, what) => { console.log(`${ok ? "ok  " : "FAIL"} ${what}`); if (!ok) failed = true; };
try {
  const page = await browser.newPage({ viewport: { width: 720, height: 560 } });
  page.on("pageerror", (e) => console.log(`page error: ${e}`));
  await page.goto(url);
  await page.waitForSelector("#done", { timeout: 30000 });
  const outcomes = await page.$$eval("#outcomes li", (lis) =>
    lis.map((li) => ({ id: Number(li.dataset.id), cls: li.className, text: li.textContent })));
  const stats = await (await fetch(new URL("/api/stats", url))).json();
  const ids = outcomes.map((o) => o.id).sort((a, b) => a - b);
  check(outcomes.length === 15 && ids.every((id, i) => id === i + 1),
    `every outcome arrived once (${outcomes.length} of 15)`);
  const shouldFail = (id) => id % 5 === 0 || id === 7;
  check(outcomes.every((o) => (o.cls === "failed") === shouldFail(o.id)),
    "failures (HTTP 500 on 5, 10, 15; timeout on 7) shown as failures, the rest as loaded");
  check(outcomes.some((o) => o.id === 7 && /timed out/.test(o.text)), "item 7 timed out");
  const order = outcomes.map((o) => o.id);
  check(order.join() !== ids.join(), `shown in completion order: ${order.join(" ")}`);
  check(stats.detailRequests === 15, `one request per item (${stats.detailRequests})`);
  check(stats.maxInFlight <= 4, `at most 4 requests in flight (server saw ${stats.maxInFlight})`);
  check(stats.maxInFlight === 4, "and the limit was used");
  check(stats.listRequests === 3, `3 list pages (${stats.listRequests})`);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
