#!/usr/bin/env bash
# `npm test` runs this first (pretest). It installs the Debian packages that
# the real-world tests use, if they are missing: prometheus (the prometheus
# and promtool commands), prometheus-pushgateway, chromium, and golang-go with
# Debian's grpc-go and go-grpc-prometheus sources (the specs build the grpc-go
# peers from them with scripts/go-peer.sh). Installing needs root and apt-get, as
# on CI and on the project's machines. Safe to run again: it does nothing when
# everything is there.
#
# Elsewhere it installs nothing: it says which packages are missing, which
# spec files need each of them, and exits 1. `npm run test:core` runs
# everything else, without these packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# What the tests run: test/support/prometheus.ts honours PROMETHEUS_BIN and
# PROMTOOL_BIN, test/real-world/prometheus-pushgateway.spec.ts PUSHGATEWAY_BIN;
# test/support/browser.ts starts /usr/bin/chromium.
prometheus_bin="${PROMETHEUS_BIN:-prometheus}"
promtool_bin="${PROMTOOL_BIN:-promtool}"
pushgateway_bin="${PUSHGATEWAY_BIN:-prometheus-pushgateway}"
chromium_bin=/usr/bin/chromium
# What scripts/go-peer.sh builds the grpc-go peers from.
gocode=/usr/share/gocode/src
go_packages=(golang-go golang-google-grpc-dev golang-github-grpc-ecosystem-go-grpc-prometheus-dev)
go_present() {
  case $1 in
    golang-go) command -v go >/dev/null 2>&1 ;;
    golang-google-grpc-dev) [ -d "$gocode/google.golang.org/grpc" ] ;;
    golang-github-grpc-ecosystem-go-grpc-prometheus-dev) [ -d "$gocode/github.com/grpc-ecosystem/go-grpc-prometheus" ] ;;
  esac
}

need=()
add() {
  local p
  for p in "${need[@]}"; do [ "$p" = "$1" ] && return 0; done
  need+=("$1")
}
command -v "$prometheus_bin" >/dev/null 2>&1 || add prometheus
command -v "$promtool_bin" >/dev/null 2>&1 || add prometheus
command -v "$pushgateway_bin" >/dev/null 2>&1 || add prometheus-pushgateway
[ -x "$chromium_bin" ] || add chromium
for p in "${go_packages[@]}"; do go_present "$p" || add "$p"; done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  # The spec files that need each package, as test:core leaves them out.
  specs() { grep -rlE "$1" test --include='*.spec.ts' | sort | sed 's/^/    /'; }
  {
    why=$([ "$(id -u)" -ne 0 ] && echo "not root" || echo "no apt-get")
    echo "system-deps: missing Debian package(s): ${need[*]} (cannot install them here: $why)."
    for p in "${need[@]}"; do
      case $p in
        prometheus)
          echo "  prometheus (the prometheus and promtool commands) is needed by:"
          specs '\bstartPrometheus\(|\bpromtool\('
          ;;
        prometheus-pushgateway)
          echo "  prometheus-pushgateway ($pushgateway_bin) is needed by:"
          specs '\bpushgatewayBin\b'
          ;;
        chromium)
          echo "  chromium ($chromium_bin) is needed by:"
          specs 'support/browser\.js'
          ;;
        golang-*)
          echo "  $p (the grpc-go peers, scripts/go-peer.sh) is needed by:"
          specs 'peers/go-peers\.js'
          ;;
      esac
    done
    echo "Install them as root (Debian: apt-get install ${need[*]}) and run npm test again,"
    echo "or run every other test with: npm run test:core"
  } >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
for cmd in "$prometheus_bin" "$promtool_bin" "$pushgateway_bin"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "system-deps: apt-get installed ${need[*]}, but $cmd is still missing" >&2; exit 1; }
done
[ -x "$chromium_bin" ] || { echo "system-deps: apt-get installed ${need[*]}, but $chromium_bin is still missing" >&2; exit 1; }
for p in "${go_packages[@]}"; do
  go_present "$p" || { echo "system-deps: apt-get installed ${need[*]}, but $p is still missing" >&2; exit 1; }
done
