// The demo's web server and JSON API, on 127.0.0.1 (node, no packages).
//
//   node server.mjs [port]      (default 8642; prints "listening on <url>")
//
// - GET /                      index.html, and /pkg/* (the wasm-bindgen output)
// - GET /api/items?page=N      {"items": [ids], "next": N + 1 or null}: 3 pages of 5
// - GET /api/items/ID          {"id": ID, "name": ...} after 40-160 ms; ids that
//                              are multiples of 5 answer HTTP 500; id 7 answers
//                              after 3 s (past the page's timeout)
// - GET /api/stats             the counters the headless check reads
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const port = Number(process.argv[2] ?? 8642);
const PAGES = 3, PER_PAGE = 5;
const stats = { listRequests: 0, detailRequests: 0, inFlight: 0, maxInFlight: 0, aborted: 0 };
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  if (url.pathname === "/api/items") {
    stats.listRequests++;
    const page = Number(url.searchParams.get("page"));
    const items = Array.from({ length: PER_PAGE }, (_, i) => (page - 1) * PER_PAGE + i + 1);
    return json(res, 200, { items, next: page < PAGES ? page + 1 : null });
  }
  const detail = url.pathname.match(/^\/api\/items\/(\d+)$/);
  if (detail) {
    const id = Number(detail[1]);
    stats.detailRequests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const finish = () => { if (!done) { done = true; stats.inFlight--; } };
    // A request the page gave up on (its timeout aborted the fetch).
    req.on("close", () => { if (!res.writableEnded) { stats.aborted++; } finish(); });
    const delay = id === 7 ? 3000 : 40 + ((id * 37) % 120);
    setTimeout(() => {
      if (done) return;
      finish();
      if (id % 5 === 0) return json(res, 500, { error: "server error" });
      json(res, 200, { id, name: `item ${id}` });
    }, delay);
    return;
  }
  if (url.pathname === "/api/stats") return json(res, 200, stats);
  const path = url.pathname === "/" ? "index.html" : normalize(url.pathname).replace(/^\/+/, "");
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
}).listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}/`));
