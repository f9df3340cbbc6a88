#!/usr/bin/env bash
# Makes podman usable for the container runner on a Debian 12 machine without Docker (CI, or a
# build host): installs podman, buildah, runc and debootstrap, and sets the engine options that
# work here (runc: crun fails on this cgroup layout; cgroupfs; a file events log; ulimits that
# fit under the host's open-files cap). Run as root; safe to run again.
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap >/dev/null
fi
mkdir -p /etc/containers/containers.conf.d
cat > /etc/containers/containers.conf.d/90-local.conf <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
# --userns=auto (each build container's root is an unprivileged uid on the host) takes its ids
# from the subordinate ranges of the `containers` user.
if ! grep -q '^containers:' /etc/subuid 2>/dev/null; then
  id containers >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin containers
  echo 'containers:2147483647:2147483648' >> /etc/subuid
  echo 'containers:2147483647:2147483648' >> /etc/subgid
fi
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}' >&2
