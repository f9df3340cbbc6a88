#!/usr/bin/env bash
# Builds the build-server container image `localhost/platform-build-server:latest` with podman,
# without any registry: a Debian base made by debootstrap (cached under ~/.cache), this
# machine's Node.js binary and npm, and the build-server bundled by esbuild into one file.
#   bash packages/runner/container/build-image.sh            # base image reused when present
#   IMAGE=localhost/x:y bash packages/runner/container/build-image.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
image="${IMAGE:-localhost/platform-build-server:latest}"
base="localhost/platform-build-base:bookworm-sandbox"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/platform-build-base-sandbox"

command -v podman >/dev/null || { echo "podman is not installed (apt-get install -y podman buildah runc debootstrap)" >&2; exit 1; }

if ! podman image exists "$base"; then
  if [ ! -f "$cache/rootfs.tar" ]; then
    command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >&2; exit 1; }
    mkdir -p "$cache"
    rootfs="$(mktemp -d)"
    echo "debootstrap: making the base root file system (about 80 s)" >&2
    debootstrap --variant=minbase --include=git,ca-certificates,libstdc++6,bubblewrap,slirp4netns,nftables bookworm "$rootfs" >&2
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$cache/rootfs.tar.partial" .
    mv "$cache/rootfs.tar.partial" "$cache/rootfs.tar"
    rm -rf "$rootfs"
  fi
  podman import "$cache/rootfs.tar" "$base" >&2
fi

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$here/Containerfile" "$here/entrypoint.sh" "$ctx/"
# The CAs this machine trusts (a company's proxy CA among them), so builds reach the registry it reaches.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"; else : > "$ctx/ca-certificates.crt"; fi
# This machine's global npm settings (a registry mirror, a cafile), as the local runner's builds get them.
globalrc="$(npm config get globalconfig 2>/dev/null || true)"
if [ -n "$globalrc" ] && [ -f "$globalrc" ]; then cp "$globalrc" "$ctx/npmrc"; else : > "$ctx/npmrc"; fi
cp "$(readlink -f "$(command -v node)")" "$ctx/node"
# npm, for the builds' `npm install` / `npm run build`: the one that ships with this Node.
cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$ctx/npm"
# One ESM file with every dependency; `require` is provided for the CommonJS ones.
(cd "$repo" && node -e '
  const { build } = require(require.resolve("esbuild", { paths: [require.resolve("tsx")] }));
  build({
    entryPoints: ["build-server/src/main.ts"], bundle: true, platform: "node", format: "esm",
    target: "node20", outfile: process.argv[1], logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from \"node:module\"; const require = __cr(import.meta.url);" },
  }).catch((e) => { console.error(e); process.exit(1); });
' "$ctx/build-server.mjs")
podman build --quiet --tag "$image" "$ctx" >&2
echo "$image"
