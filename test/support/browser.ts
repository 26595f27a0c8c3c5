// A real browser for the tests: Debian's Chromium driven by playwright-core,
// a page bundled with esbuild, and an HTTP/1.1 server that serves the page and
// the Connect routes from one origin.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { routes as pingRoutes } from "./ping-service.js";

/** Where Debian's chromium package puts the browser. */
export const chromiumPath = "/usr/bin/chromium";

/**
 * The flags that keep Chromium quiet on a machine without a network: no
 * background requests, no component updates, no sync, no QUIC.
 */
export const chromiumFlags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** A bundled page: its script, and the temp dir it was built in. */
export interface Bundle {
  readonly script: string;
  readonly dir: string;
  remove(): Promise<void>;
}

/** bundlePage bundles a page's entry point for the browser, into a temp dir. */
export async function bundlePage(entry: string): Promise<Bundle> {
  const dir = await mkdtemp(path.join(tmpdir(), "connectrpc-prometheus-page-"));
  const outfile = path.join(dir, "bundle.js");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "chrome120",
    logLevel: "silent",
  });
  return {
    script: await readFile(outfile, "utf8"),
    dir,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A running headless Chromium with its own, fresh profile. */
export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** launchChromium starts headless Chromium with a fresh user data dir. */
export async function launchChromium(): Promise<Browser> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "connectrpc-prometheus-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
    });
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** A server of one origin: the page at `/`, its script, and the Connect routes. */
export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * startPageServer serves, on HTTP/1.1 at 127.0.0.1, `/` (a page that loads
 * the script), `/bundle.js` (the script), and passes every other request to
 * connect-node with the interceptors.
 */
export async function startPageServer(
  script: string,
  interceptors: Interceptor[],
  routes: (router: ConnectRouter) => void = pingRoutes,
): Promise<PageServer> {
  const connect = connectNodeAdapter({ routes, interceptors });
  const page =
    `<!doctype html><html><head><meta charset="utf-8"><title>connectrpc-prometheus</title>` +
    `<link rel="icon" href="data:,"></head>` +
    `<body><script type="module" src="/bundle.js"></script></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else if (req.method === "GET" && req.url === "/bundle.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(script);
    } else {
      connect(req, res);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
