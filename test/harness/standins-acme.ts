/**
 * Stand-ins for the images of the built-in acme-platform template (nginx, traefik/whoami, memcached, mysql, redis,
 * rabbitmq), made from busybox because this machine has no registry. Each keeps what the template relies on: the
 * executable its command names, the port it listens on, the environment it reads, and the health-check commands
 * (`mysqladmin ping`, `rabbitmq-diagnostics ping`), so placement, discovery across nodes and health gating are
 * real. The servers are `nc -ll -e` scripts speaking a small line protocol, named in each below; a test that
 * logs in checks that the credentials a service was given match the ones its peer was given.
 */
import type { ImageSpec } from './images.ts';
import { nginxStandIn } from './standins.ts';

const PATH = { PATH: '/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

// Every server runs its listener as a child: a shell as PID 1 ignores TERM, and a stop would wait out the grace
// period instead of ending at once as the real servers do.
const asChild = `pid=$!
trap 'kill $pid; exit 0' TERM INT QUIT
wait $pid
`;
const serve = (port: string, handler: string) => `nc -ll -p ${port} -e ${handler} &\n${asChild}`;

/** traefik/whoami: `--port N --name NAME`; answers every request with its name and host name. */
const WHOAMI = `#!/bin/sh
port=80; name=
while [ $# -gt 0 ]; do
  case "$1" in --port) port=$2; shift ;; --name) name=$2; shift ;; esac
  shift
done
mkdir -p /tmp/whoami
printf 'Name: %s\\nHostname: %s\\n' "$name" "$(hostname)" > /tmp/whoami/index.html
httpd -f -p "$port" -h /tmp/whoami &
${asChild}`;

/**
 * mysql on 3306: greets with `mysql 8.4 (stand-in) database NAME`, then answers `LOGIN USER PASSWORD` with `OK` or
 * the access-denied error, and `ping` with `mysqld is alive` (as `mysqladmin ping`). Like the real image it
 * refuses to start without a root password.
 */
const MYSQLD = `#!/bin/sh
[ -n "$MYSQL_ROOT_PASSWORD" ] || { echo 'error: database is uninitialized and password option is not specified' >&2; exit 1; }
${serve('3306', '/usr/local/bin/mysql-conn')}`;

const MYSQL_CONN = `#!/bin/sh
echo "mysql 8.4 (stand-in) database $MYSQL_DATABASE"
while IFS= read -r line; do
  set -- $line
  case "$1" in
    ping) echo 'mysqld is alive' ;;
    LOGIN)
      if { [ "$2" = "$MYSQL_USER" ] && [ "$3" = "$MYSQL_PASSWORD" ]; } || { [ "$2" = root ] && [ "$3" = "$MYSQL_ROOT_PASSWORD" ]; }; then echo OK
      else echo "ERROR 1045 (28000): Access denied for user '$2'"; fi ;;
    *) echo 'ERROR 1064 (42000): You have an error in your SQL syntax' ;;
  esac
done
`;

const MYSQLADMIN = `#!/bin/sh
echo ping | nc 127.0.0.1 3306 | grep -q 'mysqld is alive'
`;

/** redis on 6379, inline commands as real Redis takes them: AUTH PASSWORD, then PING → +PONG. */
const REDIS_SERVER = `#!/bin/sh
REDIS_STANDIN_PASSWORD=
while [ $# -gt 0 ]; do [ "$1" = --requirepass ] && { REDIS_STANDIN_PASSWORD=$2; shift; }; shift; done
export REDIS_STANDIN_PASSWORD
${serve('6379', '/usr/local/bin/redis-conn')}`;

const REDIS_CONN = `#!/bin/sh
cr=$(printf '\\r')
authed=; [ -z "$REDIS_STANDIN_PASSWORD" ] && authed=1
while IFS= read -r line; do
  set -- \${line%"$cr"}
  case "$1" in
    AUTH|auth) if [ "$2" = "$REDIS_STANDIN_PASSWORD" ]; then authed=1; printf '+OK\\r\\n'; else printf -- '-WRONGPASS invalid username-password pair or user is disabled.\\r\\n'; fi ;;
    PING|ping) if [ -n "$authed" ]; then printf '+PONG\\r\\n'; else printf -- '-NOAUTH Authentication required.\\r\\n'; fi ;;
    *) printf -- "-ERR unknown command '%s'\\r\\n" "$1" ;;
  esac
done
`;

/** rabbitmq on 5672: greets with the user it was given; `rabbitmq-diagnostics ping` checks that it answers. */
const RABBITMQ_SERVER = `#!/bin/sh
${serve('5672', '/usr/local/bin/rabbitmq-conn')}`;

const RABBITMQ_CONN = `#!/bin/sh
echo "AMQP 0-9-1 (rabbitmq stand-in) user \${RABBITMQ_DEFAULT_USER:-guest}"
`;

const RABBITMQ_DIAGNOSTICS = `#!/bin/sh
nc 127.0.0.1 5672 </dev/null | grep -q '^AMQP'
`;

/** memcached on 11211 (`memcached -m MB`): `stats` tells the memory limit it was started with. */
const MEMCACHED = `#!/bin/sh
mb=64
while [ $# -gt 0 ]; do [ "$1" = -m ] && { mb=$2; shift; }; shift; done
export MEMCACHED_STANDIN_BYTES=$((mb * 1024 * 1024))
${serve('11211', '/usr/local/bin/memcached-conn')}`;

const MEMCACHED_CONN = `#!/bin/sh
cr=$(printf '\\r')
while IFS= read -r line; do
  case "\${line%"$cr"}" in
    stats) printf 'STAT limit_maxbytes %s\\r\\nEND\\r\\n' "$MEMCACHED_STANDIN_BYTES" ;;
    *) printf 'ERROR\\r\\n' ;;
  esac
done
`;

const whoami = (tag: string): ImageSpec => ({ tag, files: { '/whoami': WHOAMI }, entrypoint: ['/whoami'], expose: ['80/tcp'] });

const mysql = (tag: string): ImageSpec => ({
  tag, env: PATH, cmd: ['mysqld'], expose: ['3306/tcp'],
  files: { '/usr/local/bin/mysqld': MYSQLD, '/usr/local/bin/mysql-conn': MYSQL_CONN, '/usr/local/bin/mysqladmin': MYSQLADMIN, '/var/lib/mysql/.keep': '' },
});

const redis = (tag: string): ImageSpec => ({
  tag, env: PATH, cmd: ['redis-server'], expose: ['6379/tcp'], workdir: '/data',
  files: { '/usr/local/bin/redis-server': REDIS_SERVER, '/usr/local/bin/redis-conn': REDIS_CONN, '/data/.keep': '' },
});

const rabbitmq = (tag: string): ImageSpec => ({
  tag, env: PATH, cmd: ['rabbitmq-server'], expose: ['5672/tcp'],
  files: { '/usr/local/bin/rabbitmq-server': RABBITMQ_SERVER, '/usr/local/bin/rabbitmq-conn': RABBITMQ_CONN, '/usr/local/bin/rabbitmq-diagnostics': RABBITMQ_DIAGNOSTICS, '/var/lib/rabbitmq/.keep': '' },
});

const memcached = (tag: string): ImageSpec => ({
  tag, env: PATH, cmd: ['memcached'], expose: ['11211/tcp'],
  files: { '/usr/local/bin/memcached': MEMCACHED, '/usr/local/bin/memcached-conn': MEMCACHED_CONN },
});

/** Stand-in makers by repository: a template that moves to a newer tag still finds its stand-in. */
const BY_REPOSITORY: Record<string, (tag: string) => ImageSpec> = {
  nginx: nginxStandIn, 'traefik/whoami': whoami, mysql, redis, rabbitmq, memcached,
};

/** The stand-in for an image reference (e.g. `mysql:8.4`), or an error naming the images there are stand-ins for. */
export function acmeStandIn(ref: string): ImageSpec {
  const repo = ref.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const make = BY_REPOSITORY[repo];
  if (!make) throw new Error(`no stand-in for image ${ref}; there are stand-ins for ${Object.keys(BY_REPOSITORY).join(', ')}`);
  return make(ref);
}
