#!/usr/bin/env bash
# Docker test hosts h1..h3 (+ TLS on h3, sshd on 127.0.0.1:2222, optional default dockerd).
#   bash test/harness/hosts.sh start [--default]    idempotent; writes /run/berth-test/hosts.json
#   bash test/harness/hosts.sh stop [--purge] [--default]
#   bash test/harness/hosts.sh status | restart | start-default | stop-default
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
exec node --import tsx "$here/dockerd.ts" "$@"
