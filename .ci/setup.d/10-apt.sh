#!/usr/bin/env bash
# Debian packages for the real services the tests start themselves (PostgreSQL 15, Redis, Prometheus, nginx), and
# Chromium for the browser tests (driven by playwright-core from npm; browser downloads cannot happen here).
set -euo pipefail
packages=(postgresql-15 redis-server prometheus nginx-light chromium fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  # Services are started by the tests on throwaway ports; keep the packaged daemons from starting.
  printf "#!/bin/sh\nexit 101\n" | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi
# The packaged daemons are not needed (tests run their own instances on free ports).
for svc in redis-server prometheus nginx postgresql; do
  $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
