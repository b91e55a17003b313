#!/usr/bin/env bash
# Builds geth 1.13.15 (the last release that seals Clique blocks) from the Go module proxy, once,
# into a cache outside the work tree so later runs on the same machine reuse it. Prints its path.
# -checklinkname=0: Go 1.23+ refuses to link geth 1.13's fjl/memsize dependency without it.
set -euo pipefail
cache="${BLOCKCHAIN_TENANCY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blockchain-tenancy}"
bin="$cache/geth-1.13.15/bin"
mkdir -p "$bin"
exec 9>"$cache/geth.lock"
flock 9
if [[ ! -x "$bin/geth" ]] || ! "$bin/geth" version 2>/dev/null | grep '^Version: 1.13.15' >/dev/null; then
  echo "ensure-geth: building geth 1.13.15 with $(go version | cut -d' ' -f3) (first run takes ~2 min)" >&2
  GOBIN="$bin" GOFLAGS=-mod=mod go install -ldflags=-checklinkname=0 github.com/ethereum/go-ethereum/cmd/geth@v1.13.15 >&2
fi
echo "$bin/geth"
