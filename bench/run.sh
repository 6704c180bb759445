#!/usr/bin/env bash
# Installs what the benchmark needs (Debian 12, as root), makes sure the default engine runs and has the
# harness images, then runs bench/converge.ts with the given arguments:
#   bash bench/run.sh [--stacks 10] [--services 5] [--order compose-first|berth-first] [--keep-temp]
set -euo pipefail
# docker-compose: Debian 12's compose v1.29 (python), the peer; GNU time, for the peak RSS.
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh" docker-compose:docker-compose /usr/bin/time:time
exec node --import tsx bench/converge.ts "$@"
