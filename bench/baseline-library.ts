// The library as it was at an earlier commit, for side-by-side comparison:
// its src/ is taken from git (`git archive`, nothing is committed or checked
// out) into .bench/lib-<commit>/src, where it resolves the same
// node_modules, prom-client included, as today's library.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Interceptor } from "@connectrpc/connect";
import type { Registry } from "prom-client";

/** The part of an old ServerMetrics that the bench uses. */
export interface BaselineServerMetrics {
  readonly interceptor: Interceptor;
}

/** The old library's module, as far as the bench uses it. */
export interface BaselineLibrary {
  readonly ServerMetrics: new (options: { registry: Registry; handlingTimeHistogram: boolean }) => BaselineServerMetrics;
}

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * loadBaseline imports the library's src/ at `commit`, extracting it first
 * if needed. It returns the reason instead when git cannot provide it.
 */
export async function loadBaseline(commit: string): Promise<BaselineLibrary | string> {
  const dir = `${root}.bench/lib-${commit}`;
  const index = `${dir}/src/index.ts`;
  try {
    if (!existsSync(index)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const tar = execFileSync("git", ["archive", "--format=tar", commit, "src"], {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["ignore", "pipe", "pipe"],
      });
      execFileSync("tar", ["-x", "-C", dir], { input: tar });
    }
    return (await import(pathToFileURL(index).href)) as BaselineLibrary;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `the library at ${commit} could not be loaded: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
  }
}
