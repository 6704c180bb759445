#!/usr/bin/env bash
# Starts the three-node test Swarm if it is not up (Debian 12, as root; test/harness/swarm.sh installs what it
# lacks), then runs bench/swarm.ts with the given arguments:
#   bash bench/run-swarm.sh [--stacks 10] [--services 5] [--order docker-first|berth-first] [--docker PATH] [--keep-temp]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
bash test/harness/swarm.sh start
exec node --import tsx bench/swarm.ts "$@"
