#!/usr/bin/env bash
# Shared by the bench launchers (Debian 12, as root): installs the Debian packages named as arguments when
# their command is missing, installs node modules, makes sure the default engine runs and holds the
# harness images. Usage: source bench/prepare.sh CMD:PACKAGE …
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

need=()
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}" >/tmp/berth-bench-apt.log 2>&1 ||
    { tail -30 /tmp/berth-bench-apt.log; exit 1; }
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error

# The default engine on /var/run/docker.sock (idempotent: a running one is reused), unless the benchmark uses
# only the test hosts (BENCH_NO_DEFAULT_ENGINE=1).
if [ -z "${BENCH_NO_DEFAULT_ENGINE:-}" ]; then
  if ! node -e "require('http').get({socketPath:'/var/run/docker.sock',path:'/_ping'},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"; then
    echo "==> starting the default dockerd"
    bash test/harness/hosts.sh start-default
  fi
  node --import tsx test/harness/load-images.ts unix:///var/run/docker.sock
fi
