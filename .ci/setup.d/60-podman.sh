#!/usr/bin/env bash
# A real OCI toolchain for the image, Compose and registry tests: Debian's podman and buildah (no Docker engine runs
# here), and mmdebstrap for the stand-in base image (61-node-base.sh).
# The engine settings go to a project-local containers.conf (.cache/containers/containers.conf) that the tests and
# app/deploy/image.sh pass as CONTAINERS_CONF, so no machine-wide configuration changes:
# - runc, because crun 1.8 refuses a cgroup v1/v2 hybrid layout such as this sandbox's;
# - cgroupfs and a file events log, because there is no systemd to hand cgroups or journald entries to;
# - default ulimits at this process's hard limits, because podman's defaults exceed what the sandbox allows (no
#   CAP_SYS_RESOURCE, so runc cannot raise them); processes also at most kernel.pid_max, beyond which runc's
#   setrlimit is refused here even below the hard limit.
set -euo pipefail
bash "$ROOT/.ci/apt-install" podman buildah runc fuse-overlayfs uidmap slirp4netns netavark aardvark-dns iptables mmdebstrap
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
pid_max="$(cat /proc/sys/kernel/pid_max)"
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc="$pid_max"; fi
conf="$ROOT/.cache/containers/containers.conf"
mkdir -p "${conf%/*}"
cat >"$conf.new" <<CONF
# Written by .ci/setup.d/60-podman.sh; see there for why.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
mv -f "$conf.new" "$conf"
CONTAINERS_CONF="$conf" podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}' | grep -qx "runc cgroupfs"
