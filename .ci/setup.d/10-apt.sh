#!/usr/bin/env bash
# Debian packages for the real services the tests start themselves (PostgreSQL 15, Redis, Prometheus, nginx), and
# Chromium for the browser tests (driven by playwright-core from npm; browser downloads cannot happen here).
set -euo pipefail
bash "$ROOT/.ci/apt-install" postgresql-15 redis-server prometheus nginx-light chromium fonts-dejavu-core
# The packaged daemons are not needed (tests run their own instances on free ports).
for svc in redis-server prometheus nginx postgresql; do
  $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
