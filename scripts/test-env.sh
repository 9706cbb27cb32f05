#!/usr/bin/env bash
# The test environment of the shipped runbooks (tests/runbooks/): a real
# MariaDB (Debian's mariadb-server) and Redis (redis-server), and the web
# application fixture (tests/runbooks/fixtures/webapp.py), all on 127.0.0.1,
# started directly (not as system services) by the current user with data
# under one state directory, on free ports chosen at start.
#
#   test-env.sh start [--auto-stop SECS]  start it (idempotent; waits for a
#                       concurrent start). --auto-stop: stop it by itself
#                       once nothing has used it for SECS seconds (how the
#                       tests start it when nobody else did)
#   test-env.sh stop    stop everything and remove the state directory
#                       (RUNBOOK_KEEP_TEST_ENV=1 keeps it for a post-mortem)
#   test-env.sh status  exit 0 if it is running
#   test-env.sh env     print `export K=V` lines: RUNBOOK_TEST_ENV,
#                       RUNBOOK_SITE (a site profile pointing the runbooks at
#                       it), the secrets ADMIN_TOKEN and MYSQL_PASSWORD, and
#                       the RUNBOOK_TEST_* values the tests use
#   test-env.sh db NAME create (or re-create) database NAME (must start with
#                       "vedfolnir") loaded with tests/runbooks/fixtures/vedfolnir.sql
#
# The state directory is $RUNBOOK_TEST_ENV, default
# ${TMPDIR:-/tmp}/runbook-test-env-UID. Exit status 3 from `start`: the
# servers are not installed (scripts/install-deps.sh --test installs them).
#
#   eval "$(scripts/test-env.sh start >&2 && scripts/test-env.sh env)"
#   build/runbook run daily-health-check      # against the test environment
#   scripts/test-env.sh stop
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
self="$src/scripts/test-env.sh"
dir=${RUNBOOK_TEST_ENV:-${TMPDIR:-/tmp}/runbook-test-env-$(id -u)}
fixtures="$src/tests/runbooks/fixtures"
python=/usr/bin/python3
[[ -x $python ]] || python=python3

say() { echo "test-env: $*" >&2; }
die() { say "$*"; exit 1; }

# The first of the given programs found in PATH or sbin directories.
find_program() {
  local p
  for p in "$@"; do
    if command -v "$p" >/dev/null 2>&1; then command -v "$p"; return 0; fi
    for d in /usr/sbin /usr/local/sbin /sbin; do
      [[ -x $d/$p ]] && { echo "$d/$p"; return 0; }
    done
  done
  return 1
}

free_port() {
  "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_word() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Runs the mysql client as root over the socket.
mysql_root() {
  MYSQL_PWD=$(cat "$dir/mysql/root_password") \
    mysql --no-defaults -u root --socket="$dir/mysql/mysqld.sock" --connect-timeout=10 "$@"
}

running() {
  [[ -f $dir/env ]] && alive "$dir/mysql/mysqld.pid" && alive "$dir/redis/redis.pid" && alive "$dir/web/pid" ||
    return 1
  mysql_root -e 'SELECT 1' >/dev/null 2>&1
}

# Takes the state directory's lock on fd 9 (released when the script
# exits). A stop that removed the directory while we waited leaves us
# holding a deleted file: then lock the new one.
lock() {
  while :; do
    mkdir -p "$dir"
    exec 9>>"$dir/lock"
    flock 9
    [[ $(stat -L -c %i /proc/$$/fd/9) == "$(stat -c %i "$dir/lock" 2>/dev/null)" ]] && return 0
    exec 9>&-
  done
}

touch_lease() { [[ -d $dir ]] && touch "$dir/lease" || true; }

wait_until() {  # wait_until SECONDS WHAT COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

load_database() {  # load_database NAME
  local name=$1
  [[ $name =~ ^vedfolnir[A-Za-z0-9_]*$ && ${#name} -le 64 ]] ||
    die "database name must match ^vedfolnir[A-Za-z0-9_]*\$ (64 characters at most): $name"
  mysql_root -e "DROP DATABASE IF EXISTS \`$name\`; CREATE DATABASE \`$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  mysql_root "$name" <"$fixtures/vedfolnir.sql"
}

start_mysql() {
  local mariadbd install_db port=$1
  mariadbd=$(find_program mariadbd mysqld) || return 3
  install_db=$(find_program mariadb-install-db mysql_install_db) || return 3
  mkdir -p "$dir/mysql"
  "$install_db" --no-defaults --datadir="$dir/mysql/data" --user="$(id -un)" --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >"$dir/mysql/install.log" 2>&1 ||
    { cat "$dir/mysql/install.log" >&2; die "mariadb-install-db failed"; }
  # setsid: its own session, so the caller's process group and terminal
  # signals do not reach it; fd 9 (our lock) is not inherited.
  setsid "$mariadbd" --no-defaults --datadir="$dir/mysql/data" --socket="$dir/mysql/mysqld.sock" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mysql/mysqld.pid" \
    --log-error="$dir/mysql/error.log" --user="$(id -un)" --skip-name-resolve --skip-log-bin \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --max-connections=100 \
    --slow-query-log=0 </dev/null >/dev/null 2>&1 9>&- &
  wait_until 60 "MariaDB" mysqladmin --no-defaults -u root --socket="$dir/mysql/mysqld.sock" ping ||
    { tail -20 "$dir/mysql/error.log" >&2; die "MariaDB did not start"; }
  wait_until 10 "pid file" test -s "$dir/mysql/mysqld.pid" || die "MariaDB wrote no pid file"
  random_word >"$dir/mysql/root_password"
  local root_pw app_pw
  root_pw=$(cat "$dir/mysql/root_password")
  app_pw=$(cat "$dir/secrets/MYSQL_PASSWORD")
  mysql --no-defaults -u root --socket="$dir/mysql/mysqld.sock" <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '$root_pw';
DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';
DELETE FROM mysql.global_priv WHERE User = '';
FLUSH PRIVILEGES;
CREATE USER 'vedfolnir_user'@'localhost' IDENTIFIED BY '$app_pw';
CREATE USER 'vedfolnir_user'@'127.0.0.1' IDENTIFIED BY '$app_pw';
GRANT ALL PRIVILEGES ON \`vedfolnir%\`.* TO 'vedfolnir_user'@'localhost', 'vedfolnir_user'@'127.0.0.1';
GRANT PROCESS ON *.* TO 'vedfolnir_user'@'localhost', 'vedfolnir_user'@'127.0.0.1';
SQL
  load_database vedfolnir
}

start_redis() {
  local redis port=$1
  redis=$(find_program redis-server) || return 3
  mkdir -p "$dir/redis"
  "$redis" --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --dbfilename dump.rdb --daemonize yes \
    --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --save "" --appendonly no \
    --maxmemory 64mb --maxmemory-policy noeviction 9>&-
  wait_until 20 "Redis" redis-cli -h 127.0.0.1 -p "$port" ping || die "Redis did not start"
  wait_until 10 "pid file" test -s "$dir/redis/redis.pid" || die "Redis wrote no pid file"
  # Sessions as the application keeps them: 20 with a TTL, 5 without.
  {
    for i in $(seq 1 20); do echo "SET vedfolnir:session:with-ttl-$i user$i EX 86400"; done
    for i in $(seq 1 5); do echo "SET vedfolnir:session:no-ttl-$i user$i"; done
    echo "SET vedfolnir:cache:settings on"
  } | redis-cli -h 127.0.0.1 -p "$port" >/dev/null
}

start_web() {
  local port=$1
  mkdir -p "$dir/web"
  ADMIN_TOKEN=$(cat "$dir/secrets/ADMIN_TOKEN") setsid "$python" "$fixtures/webapp.py" --port "$port" \
    --port-file "$dir/web/port" --log "$dir/app/logs/webapp.log" --state "$dir/web/state.json" \
    </dev/null >"$dir/web/server.log" 2>&1 9>&- &
  echo $! >"$dir/web/pid"
  wait_until 20 "web fixture" test -s "$dir/web/port" || { cat "$dir/web/server.log" >&2; die "web fixture did not start"; }
}

write_app_home() {
  local today
  today=$(date +%Y-%m-%d)
  mkdir -p "$dir/app/logs" "$dir/app/scripts" "$dir/backup" "$dir/tmp"
  cat >>"$dir/app/logs/webapp.log" <<EOF
$today 07:00:00,000 - webapp - INFO - Application started
$today 07:05:00,000 - webapp - ERROR - Database connection lost; retrying
EOF
  cat >>"$dir/app/logs/security_events.log" <<EOF
$today 07:10:00,000 - security - WARNING - FAILED_LOGIN user=admin1 ip=198.51.100.7
EOF
  cat >"$dir/app/.env" <<EOF
SECURITY_CSRF_ENABLED=true
CSRF_TIME_LIMIT=3600
RATE_LIMIT_PER_MINUTE=60
FLASK_SECRET_KEY=not-shown-by-the-audit
EOF
  local h
  for h in 06 07; do
    echo "$today $h:00:00,CPU:12.5%,Memory:40.25%,Disk:30%,AppCPU:1.0%,AppMem:2.0%,DBConn:3,RedisMem:1.10M"
  done >>"$dir/metrics.log"
  # The application's health check script (the seed's health_check.sh),
  # pointed at this environment.
  cat >"$dir/app/scripts/health_check.sh" <<EOF
#!/bin/sh
set -e
echo "=== Vedfolnir Health Check ==="
curl -fsS --max-time 5 "http://127.0.0.1:$web_port/health" >/dev/null && echo "Application: OK"
curl -fsS --max-time 5 "http://127.0.0.1:$web_port/api/maintenance/status" >/dev/null && echo "Maintenance API: OK"
MYSQL_PWD="\$MYSQL_PASSWORD" mysql --no-defaults -h 127.0.0.1 -P $mysql_port -u vedfolnir_user -e 'SELECT 1' vedfolnir >/dev/null && echo "Database: OK"
redis-cli -h 127.0.0.1 -p $redis_port ping | grep -q PONG && echo "Redis: OK"
echo "=== All Systems Operational ==="
EOF
  chmod 755 "$dir/app/scripts/health_check.sh"
}

write_site_and_env() {
  cat >"$dir/site.yaml" <<EOF
# Site profile of the runbook test environment (scripts/test-env.sh).
app_url: http://127.0.0.1:$web_port
app_home: $dir/app
webapp_log: $dir/app/logs/webapp.log
security_log: $dir/app/logs/security_events.log
metrics_log: $dir/metrics.log
env_file: $dir/app/.env
backup_dir: $dir/backup
tmp_dir: $dir/tmp
health_check_script: $dir/app/scripts/health_check.sh
mysql_host: 127.0.0.1
mysql_port: $mysql_port
mysql_socket: ""
mysql_user: vedfolnir_user
mysql_database: vedfolnir
redis_host: 127.0.0.1
redis_port: $redis_port
redis_dump_file: $dir/redis/dump.rdb
session_pattern: "vedfolnir:session:*"
notify_to: emergency-team@example.org
EOF
  cat >"$dir/env.tmp" <<EOF
RUNBOOK_TEST_ENV=$dir
RUNBOOK_SITE=$dir/site.yaml
ADMIN_TOKEN=$(cat "$dir/secrets/ADMIN_TOKEN")
MYSQL_PASSWORD=$(cat "$dir/secrets/MYSQL_PASSWORD")
RUNBOOK_TEST_MYSQL_PORT=$mysql_port
RUNBOOK_TEST_MYSQL_SOCKET=$dir/mysql/mysqld.sock
RUNBOOK_TEST_MYSQL_ROOT_PASSWORD=$(cat "$dir/mysql/root_password")
RUNBOOK_TEST_REDIS_PORT=$redis_port
RUNBOOK_TEST_REDIS_DUMP=$dir/redis/dump.rdb
RUNBOOK_TEST_WEB_URL=http://127.0.0.1:$web_port
RUNBOOK_TEST_WEB_STATE=$dir/web/state.json
EOF
  mv "$dir/env.tmp" "$dir/env"
}

stop_all() {
  local pidfile pid
  if [[ -f $dir/web/pid ]] && alive "$dir/web/pid"; then kill "$(cat "$dir/web/pid")" 2>/dev/null || true; fi
  if [[ -f $dir/redis/redis.pid ]] && alive "$dir/redis/redis.pid"; then
    kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true
  fi
  pidfile=$dir/mysql/mysqld.pid
  if [[ -f $pidfile ]] && alive "$pidfile"; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    wait_until 30 "MariaDB shutdown" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  for pidfile in "$dir/web/pid" "$dir/redis/redis.pid"; do
    if [[ -f $pidfile ]]; then
      pid=$(cat "$pidfile")
      wait_until 10 "exit" bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [[ -f $dir/watchdog.pid ]] && alive "$dir/watchdog.pid" && [[ $(cat "$dir/watchdog.pid") != "$$" ]]; then
    kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
  fi
}

cmd_start() {
  local auto_stop=""
  if [[ ${1:-} == --auto-stop ]]; then
    auto_stop=${2:?--auto-stop needs seconds}
  fi
  lock
  chmod 700 "$dir"
  if running; then
    touch_lease
    say "running in $dir"
    return 0
  fi
  local missing=()
  find_program mariadbd mysqld >/dev/null || missing+=(mariadb-server)
  find_program redis-server >/dev/null || missing+=(redis-server)
  command -v mysql >/dev/null || missing+=(mariadb-client)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  if ((${#missing[@]})); then
    say "not installed: ${missing[*]} (scripts/install-deps.sh --test installs them)"
    exit 3
  fi
  stop_all
  find "$dir" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
  mkdir -p "$dir/secrets"
  echo "runbook-test-token-$(random_word)" >"$dir/secrets/ADMIN_TOKEN"
  random_word >"$dir/secrets/MYSQL_PASSWORD"
  mysql_port=${RUNBOOK_TEST_MYSQL_PORT:-$(free_port)}
  redis_port=${RUNBOOK_TEST_REDIS_PORT:-$(free_port)}
  web_port=${RUNBOOK_TEST_WEB_PORT:-$(free_port)}
  say "starting in $dir (MariaDB :$mysql_port, Redis :$redis_port, web :$web_port)"
  write_app_home
  start_mysql "$mysql_port"
  start_redis "$redis_port"
  start_web "$web_port"
  write_site_and_env
  touch_lease
  if [[ -n $auto_stop ]]; then
    setsid bash "$self" _watchdog "$auto_stop" </dev/null >"$dir/watchdog.log" 2>&1 9>&- &
    echo $! >"$dir/watchdog.pid"
  fi
  say "ready"
}

# Stops the environment once the lease file is older than $1 seconds.
cmd_watchdog() {
  local idle=$1 now age
  while sleep 5; do
    [[ -f $dir/lease ]] || exit 0
    now=$(date +%s)
    age=$((now - $(stat -c %Y "$dir/lease")))
    if ((age > idle)); then
      say "idle for ${age}s: stopping"
      cmd_stop
      exit 0
    fi
  done
}

cmd_stop() {
  [[ -d $dir ]] || return 0
  lock
  stop_all
  if [[ ${RUNBOOK_KEEP_TEST_ENV:-0} == 1 ]]; then
    say "stopped; kept $dir"
  else
    rm -rf "$dir"
    say "stopped"
  fi
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) running ;;
  env)
    running || die "not running in $dir (start it with: $0 start)"
    touch_lease
    while IFS='=' read -r k v; do printf 'export %s=%q\n' "$k" "$v"; done <"$dir/env"
    ;;
  db)
    [[ -n ${2:-} ]] || die "usage: $0 db NAME"
    running || die "not running in $dir"
    touch_lease
    load_database "$2"
    ;;
  _watchdog) cmd_watchdog "$2" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac
