/**
 * Stand-ins for the public images the built-in catalog names (nginx:1.27-alpine …), made from busybox
 * because this machine has no registry. They keep the interface the templates rely on: an `nginx`
 * executable that serves /usr/share/nginx/html on port 80, and — when the site config proxies to an
 * upstream (`set $x http://web:80;`) — forwards requests there, so a load balancer in a test really
 * reaches the web replicas behind it. Berth's own behaviour (pull policy, health checks, DNS, published
 * ports) is exercised for real; only the server inside the container is simpler. The HAProxy stand-in does the
 * same for the load balancers the Rancher importer writes.
 */
import { LB_IMAGE } from '../../importers/rancher/lb.ts';
import type { ImageSpec } from './images.ts';

// nginx stops at once on TERM or INT, and gracefully on QUIT (the STOPSIGNAL of the official image); busybox
// httpd as PID 1 ignores them all, so it runs as a child here, and a stop takes milliseconds instead of the
// engine's 10 s timeout, as with the real image.
const NGINX = `#!/bin/sh
conf=/etc/nginx/conf.d/default.conf
up=$(sed -n 's/.*set \\$[A-Za-z_]* \\(http:[^;]*\\);.*/\\1/p' "$conf" 2>/dev/null | tail -1)
if [ -n "$up" ]; then
  mkdir -p /tmp/lb/cgi-bin
  printf '#!/bin/sh\\nprintf "Content-Type: text/html\\\\r\\\\n\\\\r\\\\n"\\nexec wget -q -O - "%s/"\\n' "$up" > /tmp/lb/cgi-bin/index.cgi
  chmod 755 /tmp/lb/cgi-bin/index.cgi
  root=/tmp/lb
else
  mkdir -p /usr/share/nginx/html
  [ -f /usr/share/nginx/html/index.html ] || echo '<h1>Welcome to nginx (stand-in)</h1>' > /usr/share/nginx/html/index.html
  root=/usr/share/nginx/html
fi
httpd -f -p 80 -h "$root" &
pid=$!
trap 'kill $pid; exit 0' TERM INT QUIT
wait $pid
`;

export function nginxStandIn(tag: string): ImageSpec {
  return {
    tag,
    files: { '/usr/sbin/nginx': NGINX, '/etc/nginx/conf.d/.keep': '', '/usr/share/nginx/html/index.html': '<h1>Welcome to nginx (stand-in)</h1>\n' },
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    cmd: ['nginx', '-g', 'daemon off;'],
    expose: ['80/tcp'],
  };
}

/** The images the static-site template names, by their public names. */
export const STATIC_SITE_IMAGES: ImageSpec[] = [nginxStandIn('nginx:1.27-alpine')];

// HAProxy, for the load balancers the Rancher importer writes (importers/rancher/lb.ts): it reads the same
// haproxy.cfg and does what that subset of it says. Each frontend listens on its `bind` port; an HTTP request's
// Host header and path are matched against the frontend's `acl … hdr_dom|hdr_end|hdr_beg(host) -i …` and
// `acl … path_beg …` lines, the first `use_backend … if ACL…` whose ACLs all hold wins, else `default_backend`,
// and the request is sent to the backend's `server-template NAME N HOST:PORT` (or `server NAME HOST:PORT`), found
// through Docker's DNS, with the backend's status and body relayed (GET only). A `mode tcp` frontend pipes the
// connection to the backend. A request that matches no backend, or whose backend does not answer, gets a 503,
// as from HAProxy.
const HAPROXY = `#!/bin/sh
cfg=/usr/local/etc/haproxy/haproxy.cfg
while [ $# -gt 0 ]; do [ "$1" = -f ] && { cfg=$2; shift; }; shift; done
[ -r "$cfg" ] || { echo "haproxy (stand-in): cannot read $cfg" >&2; exit 1; }
run=/tmp/haproxy
rm -rf $run; mkdir -p $run
set -f
section=; name=
while IFS= read -r line || [ -n "$line" ]; do
  set -- $line
  [ $# -eq 0 ] && continue
  case "$1" in
    '#'*) continue ;;
    global|defaults|resolvers|frontend|backend|listen)
      section=$1; name=$2
      if [ "$1" = frontend ]; then mkdir -p $run/fe-$2; echo http > $run/fe-$2/mode; : > $run/fe-$2/rules; fi
      continue ;;
  esac
  case "$section:$1" in
    frontend:bind) echo "\${2##*:}" > $run/fe-$name/port ;;
    frontend:mode) echo "$2" > $run/fe-$name/mode ;;
    frontend:acl|frontend:use_backend|frontend:default_backend) echo "$line" >> $run/fe-$name/rules ;;
    backend:server-template) echo "$4" > $run/be-$name ;;
    backend:server) echo "$3" > $run/be-$name ;;
  esac
done < "$cfg"
set +f
pids=
for d in $run/fe-*; do
  fe=\${d##*/fe-}
  nc -ll -p "$(cat $d/port)" -e /usr/local/bin/haproxy-conn "$fe" &
  pids="$pids $!"
done
echo "haproxy (stand-in): listening for $(ls $run | grep -c '^fe-') frontend(s)"
trap 'kill $pids 2>/dev/null; exit 0' TERM INT QUIT USR1
wait
`;

const HAPROXY_CONN = `#!/bin/sh
# One client connection on stdin/stdout, for frontend $1 of the stand-in.
set -f
run=/tmp/haproxy
fe=$run/fe-$1
server_of() { cat "$run/be-$1" 2>/dev/null; }
if [ "$(cat $fe/mode)" = tcp ]; then
  b=$(sed -n 's/^ *default_backend  *//p; s/^ *use_backend  *\\([^ ]*\\).*/\\1/p' $fe/rules | head -1)
  s=$(server_of "$b")
  [ -n "$s" ] && exec nc "\${s%:*}" "\${s##*:}"
  exit 0
fi
cr=$(printf '\\r')
read -r method path version || exit 0
path=\${path%"$cr"}
host=
while IFS= read -r h; do
  h=\${h%"$cr"}
  [ -z "$h" ] && break
  case "$h" in [Hh][Oo][Ss][Tt]:*) host=\${h#*:}; host=\${host# } ;; esac
done
host=$(printf %s "$host" | busybox tr A-Z a-z)
dots=".$(printf %s "$host" | sed 's#[/?:]#.#g')."
chosen=; fallback=
while IFS= read -r rule; do
  set -- $rule
  case "$1" in
    acl)
      ok=0
      v=$(printf %s "$5" | busybox tr A-Z a-z)
      case "$3" in
        'hdr_dom(host)') case "$dots" in *".$v."*) ok=1 ;; esac ;;
        'hdr_end(host)') case "$host" in *"$v") ok=1 ;; esac ;;
        'hdr_beg(host)') case "$host" in "$v"*) ok=1 ;; esac ;;
        path_beg) case "$path" in "$4"*) ok=1 ;; esac ;;
      esac
      eval "acl_$2=$ok" ;;
    use_backend)
      [ -n "$chosen" ] && continue
      b=$2; shift 3; all=1
      for a in "$@"; do eval "[ \\"\\$acl_$a\\" = 1 ]" || all=0; done
      [ $all = 1 ] && chosen=$b ;;
    default_backend) fallback=$2 ;;
  esac
done < $fe/rules
s=$(server_of "\${chosen:-$fallback}")
out=$run/response.$$
: > $out
status=
[ -n "$s" ] && { wget -S -O $out --header "Host: $host" "http://$s$path" 2> $out.h; status=$(sed -n 's#^ *HTTP/[0-9.]* \\([0-9][0-9]*\\).*#\\1#p' $out.h | tail -1); }
if [ -n "$status" ]; then
  printf 'HTTP/1.0 %s Proxied\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n' "$status" "$(wc -c < $out)"
  cat $out
else
  printf 'HTTP/1.0 503 Service Unavailable\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n'
fi
rm -f $out $out.h
`;

export function haproxyStandIn(tag: string): ImageSpec {
  return {
    tag,
    files: { '/usr/local/bin/haproxy': HAPROXY, '/usr/local/bin/haproxy-conn': HAPROXY_CONN, '/usr/local/etc/haproxy/.keep': '' },
    env: { PATH: '/usr/local/bin:/bin' },
    cmd: ['haproxy', '-f', '/usr/local/etc/haproxy/haproxy.cfg'],
  };
}

/** The image the Rancher importer gives a converted load balancer. */
export const RANCHER_LB_IMAGES: ImageSpec[] = [haproxyStandIn(LB_IMAGE)];
