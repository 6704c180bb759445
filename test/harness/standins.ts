/**
 * Stand-ins for the public images the built-in catalog names (nginx:1.27-alpine …), made from busybox
 * because this machine has no registry. They keep the interface the templates rely on: an `nginx`
 * executable that serves /usr/share/nginx/html on port 80, and — when the site config proxies to an
 * upstream (`set $x http://web:80;`) — forwards requests there, so a load balancer in a test really
 * reaches the web replicas behind it. Berth's own behaviour (pull policy, health checks, DNS, published
 * ports) is exercised for real; only the server inside the container is simpler.
 */
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
