#!/usr/bin/env bash
# Makes sure the default engine runs and has the harness images (Debian 12, as root), then runs bench/serve.ts
# with the given arguments:
#   bash bench/run-serve.sh [--repeats 5] [--stacks 50] [--idle-seconds 20] [--interval-seconds 10]
#                           [--order start-first|stop-first] [--from auto|dist|source] [--node-flags=FLAGS]
#                           [--only webhook|memory] [--keep-temp] [--verbose]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

# git serves the environment repository (the harness git server runs `git http-backend`) and makes the pushes.
if ! command -v git >/dev/null; then
  echo "==> apt-get install git"
  apt-get update -qq
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 git >/tmp/berth-bench-apt.log 2>&1 ||
    { tail -30 /tmp/berth-bench-apt.log; exit 1; }
fi
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error

# The default engine on /var/run/docker.sock (idempotent: a running one is reused).
if ! node -e "require('http').get({socketPath:'/var/run/docker.sock',path:'/_ping'},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"; then
  echo "==> starting the default dockerd"
  bash test/harness/hosts.sh start-default
fi
node --import tsx test/harness/load-images.ts unix:///var/run/docker.sock

exec node --import tsx bench/serve.ts "$@"
