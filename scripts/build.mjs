// Builds dist/esm (ESM) and dist/cjs (CommonJS), each with its declarations.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";

const tsc = (...args) => execFileSync("npx", ["tsc", ...args], { stdio: "inherit" });
rmSync("dist", { recursive: true, force: true });
tsc("-p", "tsconfig.build.json");
tsc("-p", "tsconfig.build.json", "--module", "commonjs", "--moduleResolution", "node10", "--verbatimModuleSyntax", "false", "--outDir", "dist/cjs");
writeFileSync("dist/cjs/package.json", `{"type":"commonjs"}\n`);
