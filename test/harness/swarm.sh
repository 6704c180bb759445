#!/usr/bin/env bash
# A real three-node Docker Swarm for the tests: one dockerd per network namespace (bsw1 manager, bsw2 and bsw3
# workers), joined over a bridge that lives in a namespace of its own (bswnet), so nothing leaves the machine.
#   bash test/harness/swarm.sh start        idempotent; writes /run/berth-swarm/cluster.json
#   bash test/harness/swarm.sh stop         kills the daemons and everything they started, removes all state
#   bash test/harness/swarm.sh status
#   bash test/harness/swarm.sh kill-node N  SIGKILL node N's dockerd and every process it left (containers too)
#   bash test/harness/swarm.sh start-node N restarts node N (it rejoins with its swarm identity)
# Why the odd flags: dockerd runs under `nsenter --net` (+ its own UTS namespace so nodes get their names), not
# `ip netns exec`, which remounts /sys and hides the cgroup mounts dockerd needs. The node namespaces have no
# default route: nothing can hang on a registry, and DOCKER_SERVICE_PREFER_OFFLINE_IMAGE stops pull attempts.
# The kernel here has no IPVS: service VIPs and the ingress mesh do not work, so tests use dnsrr and host ports.
set -euo pipefail
STATE=/run/berth-swarm
NODES="1 2 3"
NET=10.87.0
ip4() { echo "$NET.1$1"; }
sock() { echo "/run/berth-swarm/bsw$1.sock"; }
dk() { local n=$1; shift; docker -H "unix://$(sock "$n")" "$@"; }
log() { printf '[swarm] %s\n' "$*" >&2; }

ensure_packages() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v nsenter >/dev/null || need+=(util-linux)
  command -v ip >/dev/null || need+=(iproute2)
  [ -x /bin/busybox ] || need+=(busybox-static)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

node_up() { dk "$1" version >/dev/null 2>&1; }

make_network() {
  ip netns list | grep -qw bswnet && return 0
  ip netns add bswnet
  ip -n bswnet link set lo up
  ip -n bswnet link add br-bsw type bridge
  ip -n bswnet link set br-bsw up
  ip link add bsw-host type veth peer name vhost netns bswnet
  ip -n bswnet link set vhost master br-bsw up
  ip addr add "$NET.1/24" dev bsw-host
  ip link set bsw-host up
}

make_node_net() {
  local n=$1
  ip netns list | grep -qw "bsw$n" && return 0
  ip netns add "bsw$n"
  ip -n "bsw$n" link set lo up
  ip link add "vbsw$n" netns bswnet type veth peer name eth0 netns "bsw$n"
  ip -n bswnet link set "vbsw$n" master br-bsw up
  ip -n "bsw$n" addr add "$(ip4 "$n")/24" dev eth0
  ip -n "bsw$n" link set eth0 up
}

start_daemon() {
  local n=$1
  node_up "$n" && return 0
  mkdir -p "/var/lib/berth-bsw$n" "/run/berth-bsw$n-exec" "$STATE"
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 nsenter --net="/run/netns/bsw$n" unshare --uts -- sh -c "hostname bsw$n; exec setsid dockerd \
    -H unix://$(sock "$n") --data-root /var/lib/berth-bsw$n --exec-root /run/berth-bsw$n-exec --pidfile $STATE/bsw$n.pid \
    --containerd-namespace bsw$n --containerd-plugins-namespace bsw$n-plugins \
    --storage-driver overlay2 --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /bsw$n \
    --bip 10.88.$n.1/24 --default-address-pool base=10.89.0.0/16,size=24 \
    --swarm-default-advertise-addr $(ip4 "$n") --shutdown-timeout 3" >"$STATE/bsw$n.log" 2>&1 </dev/null &
}

wait_daemon() {
  for _ in $(seq 1 600); do node_up "$1" && return 0; sleep 0.1; done
  log "bsw$1 did not answer; its log:"; tail -20 "$STATE/bsw$1.log" >&2; return 1
}

form_swarm() {
  if [ "$(dk 1 info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    dk 1 swarm init --advertise-addr "$(ip4 1)" --listen-addr "$(ip4 1):2377" --data-path-addr "$(ip4 1)" \
      --default-addr-pool 10.90.0.0/16 --default-addr-pool-mask-length 24 --dispatcher-heartbeat 1s >/dev/null
  fi
  local token; token=$(dk 1 swarm join-token -q worker)
  for n in 2 3; do
    [ "$(dk "$n" info -f '{{.Swarm.LocalNodeState}}')" = active ] && continue
    dk "$n" swarm join --token "$token" --advertise-addr "$(ip4 "$n")" --listen-addr "$(ip4 "$n"):2377" \
      --data-path-addr "$(ip4 "$n")" "$(ip4 1):2377" >/dev/null
  done
  for n in $NODES; do dk 1 node update --label-add "berth-test.node=bsw$n" "bsw$n" >/dev/null; done
}

write_cluster_json() {
  local nodes=""
  for n in $NODES; do
    nodes+="${nodes:+,}{\"name\":\"bsw$n\",\"dockerHost\":\"unix://$(sock "$n")\",\"ip\":\"$(ip4 "$n")\",\"role\":\"$([ "$n" = 1 ] && echo manager || echo worker)\"}"
  done
  printf '{"manager":"unix://%s","hostIp":"%s.1","nodes":[%s]}\n' "$(sock 1)" "$NET" "$nodes" >"$STATE/cluster.json"
}

# As the tests expect it: bsw1 the only manager, every node Ready (a test that promotes nodes or kills one puts
# that back, but a run killed halfway may not have).
healthy() {
  for _ in $(seq 1 20); do
    [ "$(dk 1 node ls --filter role=manager -q 2>/dev/null | wc -l)" = 1 ] &&
      [ "$(dk 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = 3 ] && return 0
    sleep 1
  done
  return 1
}

start_once() {
  mkdir -p "$STATE"
  make_network
  for n in $NODES; do make_node_net "$n"; start_daemon "$n"; done
  for n in $NODES; do wait_daemon "$n"; done
  form_swarm
}

start() {
  ensure_packages
  start_once
  if ! healthy; then
    log "the running cluster is not as the tests expect (bsw1 the only manager, three nodes Ready): making it again"
    stop
    start_once
    healthy || { log "the new cluster is not healthy either: $(dk 1 node ls 2>&1 | tr '\n' ' ')"; exit 1; }
  fi
  write_cluster_json
  log "up: manager $(sock 1), workers $(sock 2) $(sock 3)"
}

# Everything the node started: its namespace's processes (containerd, shims) and its cgroup's (the containers).
node_pids() {
  { ip netns pids "bsw$1"; cat $(find /sys/fs/cgroup/pids/bsw$1 -name cgroup.procs 2>/dev/null) /dev/null; } 2>/dev/null | sort -u
}

kill_node() {
  local n=$1 pid
  pid=$(cat "$STATE/bsw$n.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  for p in $(node_pids "$n"); do kill -KILL "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do [ -z "$(node_pids "$n")" ] && break; sleep 0.1; done
  rm -f "$STATE/bsw$n.pid" "$(sock "$n")"
}

stop() {
  for n in $NODES; do kill_node "$n"; done
  for n in $NODES; do
    findmnt -rn -o TARGET | grep -E "^(/var/lib/berth-bsw$n|/run/berth-bsw$n-exec)(/|$)" | sort -r | xargs -r -n1 umount -l || true
    for c in /sys/fs/cgroup/*/bsw$n; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    rm -rf "/var/lib/berth-bsw$n" "/run/berth-bsw$n-exec"
    ip netns del "bsw$n" 2>/dev/null || true
  done
  ip netns del bswnet 2>/dev/null || true
  ip link del bsw-host 2>/dev/null || true
  rm -rf "$STATE"
  log "stopped"
}

status() {
  local rc=0
  for n in $NODES; do
    if node_up "$n"; then log "bsw$n: up $(sock "$n") $(dk "$n" info -f '{{.Swarm.LocalNodeState}}')"; else log "bsw$n: down"; rc=1; fi
  done
  node_up 1 && dk 1 node ls >&2 || true
  return $rc
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill-node) kill_node "$2" ;;
  start-node) make_node_net "$2"; start_daemon "$2"; wait_daemon "$2" ;;
  *) echo "usage: $0 start|stop|status|kill-node N|start-node N" >&2; exit 2 ;;
esac
