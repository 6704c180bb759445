#!/usr/bin/env bash
# Makes sure the default engine runs and has the harness images (Debian 12, as root), then runs bench/serve.ts
# with the given arguments:
#   bash bench/run-serve.sh [--repeats 5] [--stacks 50] [--idle-seconds 20] [--interval-seconds 10]
#                           [--order start-first|stop-first] [--from auto|dist|source] [--node-flags=FLAGS]
#                           [--only webhook|memory] [--console] [--keep-temp] [--verbose]
set -euo pipefail
# git: the harness git server runs `git http-backend`, and the benchmark pushes with it.
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh" git:git
exec node --import tsx bench/serve.ts "$@"
