#!/usr/bin/env bash
# Makes sure the three standalone test hosts run and hold the harness images (Debian 12, as root), then runs
# bench/scale.ts with the given arguments:
#   bash bench/run-scale.sh [--stacks 50] [--interval-seconds 60] [--idle-seconds 60] [--kill 10]
#                           [--concurrency N] [--swarm] [--from auto|dist|source] [--node-flags=FLAGS] [--keep-temp] [--verbose]
# --swarm: over the test Swarm instead (bench/scale.ts starts it if needed).
# Run `npm run build` first for the figures a packaged install gets (see --from in bench/README.md).
set -euo pipefail
# git: the harness git server runs `git http-backend`, and the benchmark pushes with it.
BENCH_NO_DEFAULT_ENGINE=1 source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh" git:git
# h1..h3 (idempotent: running hosts are reused).
bash test/harness/hosts.sh start
for h in 1 2 3; do node --import tsx test/harness/load-images.ts "unix:///run/berth-test/h$h.sock"; done
exec node --import tsx bench/scale.ts "$@"
