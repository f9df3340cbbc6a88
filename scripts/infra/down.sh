#!/usr/bin/env bash
# Stops what up.sh started: Kafka, moto, VersityGW and the PostgreSQL cluster. Data is kept
# (Kafka's in .infra/kafka/data, PostgreSQL's in /var/lib/postgresql); moto keeps
# nothing, it is in-memory. Idempotent: stopping something that is not running is fine.
# Honors the same INFRA_SKIP_* flags as up.sh. VersityGW's objects stay in .infra/versitygw/data.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

skip() { [[ ${!1:-0} =~ ^(1|true|yes)$ ]]; }

if ! skip INFRA_SKIP_KAFKA; then
  kafka_stop
  # A full shutdown is not a "kafka-ctl.sh stop": the next start uses the normal config.
  rm -f "$KAFKA_STATE"/last-stopped.*
fi

if ! skip INFRA_SKIP_MOTO; then
  pid=$(moto_pid)
  if [[ -n $pid ]]; then stop_pid "$pid" "moto" 15; else log "moto is not running"; fi
  rm -f "$MOTO_PIDFILE"
fi

if ! skip INFRA_SKIP_VERSITYGW; then versitygw_stop; fi

if ! skip INFRA_SKIP_POSTGRES; then
  if command -v pg_ctlcluster >/dev/null && pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1; then
    log "stopping PostgreSQL $PG_VERSION/$PG_CLUSTER"
    # fast = disconnect clients and stop now (the default "smart" waits for them).
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop -m fast
  else
    log "PostgreSQL is not running"
  fi
fi
log "infrastructure down"
