#!/usr/bin/env bash
# Builds the grpc-go peers in test/peers/go (ping-client, and ping-server with
# go-grpc-prometheus) from Debian packages only: golang-go and the Go sources
# that Debian ships in /usr/share/gocode (no Go module download). Installs the
# packages when they are missing and it may (root with apt-get). Binaries go
# to test/peers/go/bin, which git ignores.
#
# Exit 0 and the binaries are built; exit 3 and the peers are unavailable (a
# line on stderr says why). Safe to run again: it only rebuilds what changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peer="$root/test/peers/go"
gocode=/usr/share/gocode/src
packages=(golang-go golang-google-grpc-dev golang-github-grpc-ecosystem-go-grpc-prometheus-dev)

unavailable() {
  echo "go-peer: UNAVAILABLE: $*" >&2
  exit 3
}

missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -d "$gocode/google.golang.org/grpc" ] || missing+=(golang-google-grpc-dev)
[ -d "$gocode/github.com/grpc-ecosystem/go-grpc-prometheus" ] ||
  missing+=(golang-github-grpc-ecosystem-go-grpc-prometheus-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    unavailable "missing ${missing[*]}; install them with your package manager (Debian: apt-get install ${packages[*]})"
  fi
  echo "go-peer: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || unavailable "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    unavailable "apt-get install ${missing[*]} failed"
fi

# GOPATH mode: the Debian sources plus our own tree. GOFLAGS=-mod=mod and a
# proxy are never needed; GOPROXY=off makes sure nothing is fetched.
export GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="/usr/share/gocode:$peer"
export GOCACHE="${GOCACHE:-$peer/.cache}"
mkdir -p "$peer/bin"
for cmd in ping-client ping-server; do
  go build -o "$peer/bin/$cmd" "pingpeer/cmd/$cmd" || unavailable "go build pingpeer/cmd/$cmd failed"
done
echo "go-peer: built $peer/bin/ping-client and $peer/bin/ping-server ($(go version | cut -d' ' -f3))" >&2
