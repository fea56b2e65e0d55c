// npm run demo: builds the demo and serves it on localhost with the headers of build.mjs (a strict
// Content-Security-Policy and cross-origin isolation), printing the URL. Ctrl-C stops it.
// serveDemo() is also what test/demo.test.ts starts, on a free port.
//
// Usage: node demo/serve.mjs [--port N]    (default 8080; 0 picks a free one)

import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildDemo, DEFAULT_OUT, HEADERS } from "./build.mjs";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".png": "image/png",
};

/** Serves `dir` on 127.0.0.1:port; resolves with { url, close() }. */
export async function serveDemo({ dir = DEFAULT_OUT, port = 0 } = {}) {
  const base = resolve(dir);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const file = resolve(base, `.${decodeURIComponent(path === "/" ? "/index.html" : path)}`);
    const type = TYPES[extname(file)];
    if (!file.startsWith(base + sep) || type === undefined || !existsSync(file)) {
      res.writeHead(404, HEADERS).end();
      return;
    }
    res
      .writeHead(200, { "content-type": type, "cache-control": "no-cache", ...HEADERS })
      .end(readFileSync(file));
  });
  await new Promise((ready) => server.listen(port, "127.0.0.1", ready));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: "string", default: "8080" } } });
  const dir = await buildDemo();
  const { url } = await serveDemo({ dir, port: Number(values.port) });
  console.log(`klcore demo: ${url}  (built in ${relative(process.cwd(), dir) || "."}; Ctrl-C stops)`);
}
