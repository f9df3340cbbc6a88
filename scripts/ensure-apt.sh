#!/usr/bin/env bash
# Installs the Debian packages a benchmark needs when their programs are missing, so a bench
# runs on a new machine as it does on this one. Usage: ensure-apt.sh PROGRAM[=PACKAGE] ...
set -euo pipefail
missing=()
for spec in "$@"; do
  program=${spec%%=*}
  package=${spec#*=}
  command -v "$program" >/dev/null 2>&1 || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "installing ${missing[*]} (apt-get)" >&2
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
