#!/usr/bin/env bash
# Installs (when missing) and starts the integration-test infrastructure on
# loopback, without Docker, then waits until each service really answers:
#   PostgreSQL 15   postgres://platform:platform@127.0.0.1:5432/platform
#   Kafka 4 KRaft   127.0.0.1:9092
#   moto (ECS, STS) http://127.0.0.1:4566
#   VersityGW (S3)  http://127.0.0.1:7070, bucket platform-test (a real S3 server, from the Go module proxy)
# Writes the matching settings to <repo>/.infra/env and prints them on stdout
# (progress goes to stderr), so both of these work:
#   scripts/infra/up.sh && source .infra/env
#   eval "$(scripts/infra/up.sh)"
# Safe to re-run: what is installed is not reinstalled, what runs is only health-checked.
# Skip a service with INFRA_SKIP_POSTGRES=1, INFRA_SKIP_KAFKA=1, INFRA_SKIP_MOTO=1 or INFRA_SKIP_VERSITYGW=1 (and the
# Pebble build, which up.sh only caches for the tests' private instances, with INFRA_SKIP_PEBBLE=1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Keep stdout for the env lines only; everything else (apt, mvn, pip...) goes to stderr.
exec 3>&1 1>&2

skip() { [[ ${!1:-0} =~ ^(1|true|yes)$ ]]; }

# ----------------------------------------------------------------------- PostgreSQL
postgres_up() {
  local bin=/usr/lib/postgresql/$PG_VERSION/bin/postgres
  if [[ ! -x $bin ]] || ! command -v pg_ctlcluster >/dev/null; then
    # Debian 12's `postgresql` is PostgreSQL 15; its postinst creates cluster 15/main.
    apt_install postgresql
  fi
  [[ -x $bin ]] || die "the postgresql package did not bring PostgreSQL $PG_VERSION (is this Debian 12?)"

  local port
  port=$(pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c {print $3}')
  if [[ -z $port ]]; then
    log "creating PostgreSQL cluster $PG_VERSION/$PG_CLUSTER"
    pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT"
    port=$PG_PORT
  fi
  [[ $port == "$PG_PORT" ]] || die "cluster $PG_VERSION/$PG_CLUSTER is configured for port $port, expected $PG_PORT"

  # Throwaway test data: trade crash safety for speed (CI disks are slow at fsync),
  # and allow more connections than the default 100 (several services + test pools).
  local conf=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/conf.d/90-platform-infra.conf changed=0
  local want="# Written by scripts/infra/up.sh: settings for a disposable test database.
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200"
  if [[ ! -f $conf || $(<"$conf") != "$want" ]]; then
    mkdir -p "$(dirname "$conf")" && printf '%s\n' "$want" >"$conf" && changed=1
  fi

  if pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; then
    if ((changed)); then
      log "restarting PostgreSQL to apply $conf"
      pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
    else
      log "PostgreSQL $PG_VERSION already running"
    fi
  else
    log "starting PostgreSQL $PG_VERSION"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
  fi
  pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
  wait_until 60 "PostgreSQL on port $PG_PORT" pg_ready

  # Role (with CREATEDB so tests may create scratch databases) and database.
  # The password is (re)set every time: cheap, and heals a role created another way.
  (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres \
    -v user="$PG_USER" -v pass="$PG_PASSWORD" -v db="$PG_DATABASE") <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN CREATEDB PASSWORD :'pass';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL

  # Debian's pg_hba.conf already allows scram-sha-256 passwords on 127.0.0.1; if a
  # local edit broke that, put an explicit rule for our role first and reload.
  pg_tcp_ok() { PGCONNECT_TIMEOUT=5 psql "$DATABASE_URL" -X -q -t -A -c 'select 1' >/dev/null 2>&1; }
  if ! pg_tcp_ok; then
    local hba=/etc/postgresql/$PG_VERSION/$PG_CLUSTER/pg_hba.conf
    log "password login over TCP failed; adding a rule for $PG_USER to $hba"
    sed -i "1i host all $PG_USER 127.0.0.1/32 scram-sha-256\nhost all $PG_USER ::1/128 scram-sha-256" "$hba"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" reload
    wait_until 10 "password login to $DATABASE_URL" pg_tcp_ok
  fi
  log "PostgreSQL ready: $(psql "$DATABASE_URL" -X -t -A -c 'show server_version')"
}

# ---------------------------------------------------------------------------- Kafka
kafka_up() {
  kafka_ensure_java
  kafka_ensure_libs
  if [[ -n $(kafka_pid) ]]; then
    log "Kafka already running (pid $(kafka_pid))"
    kafka_wait_ready
  else
    kafka_prepare
    kafka_start
    kafka_wait_ready --deep
  fi
  kafka_ensure_principals
  log "Kafka $KAFKA_VERSION ready on $KAFKA_BROKERS (SASL/SCRAM, ACLs on)"
}

# ----------------------------------------------------------------------------- moto
moto_up() {
  moto_ensure_installed
  local venv; venv=$(moto_venv)
  if [[ -n $(moto_pid) ]]; then
    log "moto already running (pid $(moto_pid))"
  elif port_open "$MOTO_PORT"; then
    moto_http_ok || die "port $MOTO_PORT is taken by something that is not moto (pid $(listener_pid "$MOTO_PORT"))"
    log "moto already answering on $MOTO_URL"
  else
    log "starting moto server $MOTO_VERSION (log: $MOTO_LOG)"
    start_daemon "$MOTO_PIDFILE" "$MOTO_LOG" "$venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
  fi
  local pid; pid=$(moto_pid)
  moto_up_check() { [[ -z $pid ]] || pid_alive "$pid" || die "moto exited; last log lines:$(printf '\n'; tail -n 30 "$MOTO_LOG")"; moto_http_ok; }
  wait_until 60 "moto on $MOTO_URL" moto_up_check

  # moto keeps everything in memory: after any moto restart the bucket must be made again.
  "$venv/bin/python" - "$MOTO_URL" "$S3_BUCKET" "$AWS_REGION" <<'EOF'
import sys, boto3, botocore.exceptions
from botocore.config import Config
url, bucket, region = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=url, region_name=region, aws_access_key_id="test",
                  aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))
try:
    s3.head_bucket(Bucket=bucket)
except botocore.exceptions.ClientError:
    s3.create_bucket(Bucket=bucket)
    s3.head_bucket(Bucket=bucket)
EOF
  log "moto ready on $MOTO_URL (bucket $S3_BUCKET)"
}

write_env() {
  local env=$INFRA_STATE_DIR/env
  kafka_credentials # the SASL passwords, also when Kafka itself was skipped
  mkdir -p "$INFRA_STATE_DIR"
  cat >"$env.tmp" <<EOF
export DATABASE_URL=$DATABASE_URL
export KAFKA_BROKERS=$KAFKA_BROKERS
export KAFKA_USERNAME=$KAFKA_PLATFORM_USER
export KAFKA_PASSWORD=${KAFKA_PLATFORM_PASSWORD:-}
export KAFKA_SASL_MECHANISM=scram-sha-512
export KAFKA_BUILD_USERNAME=$KAFKA_BUILD_USER
export KAFKA_BUILD_PASSWORD=${KAFKA_BUILD_PASSWORD:-}
export S3_ENDPOINT=$VERSITYGW_URL
export S3_FORCE_PATH_STYLE=true
export S3_BUCKET=$S3_BUCKET
export AWS_REGION=$AWS_REGION
export AWS_ACCESS_KEY_ID=$VERSITYGW_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$VERSITYGW_SECRET_KEY
export ECS_ENDPOINT=$MOTO_URL
export MOTO_ENDPOINT=$MOTO_URL
EOF
  mv "$env.tmp" "$env"
  log "settings written to $env"
  cat "$env" >&3
}

started=$SECONDS
mkdir -p "$INFRA_STATE_DIR"
if skip INFRA_SKIP_POSTGRES; then log "skipping PostgreSQL (INFRA_SKIP_POSTGRES)"; else postgres_up; fi
if skip INFRA_SKIP_KAFKA; then log "skipping Kafka (INFRA_SKIP_KAFKA)"; else kafka_up; fi
if skip INFRA_SKIP_MOTO; then log "skipping moto (INFRA_SKIP_MOTO)"; else moto_up; fi
if skip INFRA_SKIP_VERSITYGW; then log "skipping VersityGW (INFRA_SKIP_VERSITYGW)"; else versitygw_up; fi
# Pebble (test ACME CA) is only built here, once, into the cache: each test file starts a private one.
if skip INFRA_SKIP_PEBBLE; then log "skipping Pebble (INFRA_SKIP_PEBBLE)"; else log "Pebble binaries in $(bash "$INFRA_SCRIPTS_DIR/pebble/install.sh")"; fi
write_env
log "infrastructure up in $((SECONDS - started))s"
