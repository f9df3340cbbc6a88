#!/usr/bin/env bash
# Builds Pebble (a test ACME CA) and pebble-challtestsrv (its DNS server) from the Go module
# proxy into the infra cache, once: <cache>/pebble-<version>/bin/{pebble,pebble-challtestsrv}.
# A Go toolchain older than Pebble needs (or none at all) is fetched first, also from the Go
# module proxy (toolchains are published there as golang.org/toolchain modules), so nothing
# installed by hand is relied on. Prints the bin folder on stdout; progress goes to stderr.
set -euo pipefail
PEBBLE_VERSION=${PEBBLE_VERSION:-v2.10.3}
GO_TOOLCHAIN=${PEBBLE_GO_TOOLCHAIN:-1.24.4}
CACHE=${INFRA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-infra}
DIR=$CACHE/pebble-$PEBBLE_VERSION
BIN=$DIR/bin
log() { printf 'pebble: %s\n' "$*" >&2; }

if [[ -x $BIN/pebble && -x $BIN/pebble-challtestsrv ]]; then
  echo "$BIN"
  exit 0
fi

go_ok() {
  local go=$1 v
  v=$("$go" env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  # Pebble v2.10 needs Go 1.23 or newer.
  [[ $(printf '%s\n1.23\n' "$v" | sort -V | head -n1) == 1.23 ]]
}

GO=$(command -v go || true)
if [[ -z $GO ]] || ! go_ok "$GO"; then
  GO=$CACHE/go-$GO_TOOLCHAIN/go/bin/go
  if [[ ! -x $GO ]]; then
    arch=$(uname -m); case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
    url=https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN.linux-$arch.zip
    log "no usable Go here; fetching the Go $GO_TOOLCHAIN toolchain from $url"
    mkdir -p "$CACHE/go-$GO_TOOLCHAIN"
    curl -fsSL -o "$CACHE/go-$GO_TOOLCHAIN/toolchain.zip" "$url"
    command -v unzip >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null; }
    # The module zip holds golang.org/toolchain@.../{bin,pkg,src}: unpack and rename to go/.
    (cd "$CACHE/go-$GO_TOOLCHAIN" && unzip -q toolchain.zip && mv golang.org/toolchain@* go && rm -rf golang.org toolchain.zip)
    chmod +x "$CACHE/go-$GO_TOOLCHAIN"/go/bin/* "$CACHE/go-$GO_TOOLCHAIN"/go/pkg/tool/*/* 2>/dev/null || true
  fi
fi

log "building pebble $PEBBLE_VERSION with $("$GO" env GOVERSION) (about a minute, once)"
mkdir -p "$DIR"
GOPATH=$DIR/gopath GOBIN=$BIN GOTOOLCHAIN=local GOFLAGS=-modcacherw "$GO" install \
  "github.com/letsencrypt/pebble/v2/cmd/pebble@$PEBBLE_VERSION" \
  "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$PEBBLE_VERSION" >&2
# Pebble's own TLS certificate for its ACME endpoint (and the CA that signed it) ship in the module.
mkdir -p "$DIR/certs"
cp "$DIR/gopath/pkg/mod/github.com/letsencrypt/pebble/v2@$PEBBLE_VERSION/test/certs/localhost/"{cert,key}.pem "$DIR/certs/"
cp "$DIR/gopath/pkg/mod/github.com/letsencrypt/pebble/v2@$PEBBLE_VERSION/test/certs/pebble.minica.pem" "$DIR/certs/"
log "pebble ready in $BIN"
echo "$BIN"
