#!/usr/bin/env bash
# Stops / starts ONLY the Kafka broker, keeping its data (topics, messages,
# committed consumer offsets), e.g. for a test that restarts the broker mid-build:
#   scripts/infra/kafka-ctl.sh stop      # clean shutdown (SIGTERM), returns once the JVM is gone
#   scripts/infra/kafka-ctl.sh start     # same broker, same data; returns once it serves requests
#   scripts/infra/kafka-ctl.sh restart
#   scripts/infra/kafka-ctl.sh status    # exit 0 if running
# `start` assumes up.sh ran once (jars cached, storage formatted); if not, it prepares them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

do_start() {
  local t=$SECONDS
  if [[ -n $(kafka_pid) ]]; then log "Kafka already running (pid $(kafka_pid))"; return; fi
  if [[ ! -s $KAFKA_STATE/last-stopped.cmdline ]]; then
    # Normal start from this checkout's config: make sure jars and storage exist.
    kafka_ensure_java
    kafka_ensure_libs
    kafka_prepare
  fi
  kafka_start
  kafka_wait_ready --deep  # also proves consumer groups (offset commits) work again
  log "Kafka up in $((SECONDS - t))s (pid $(kafka_pid))"
}

case ${1:-} in
  stop) kafka_stop ;;
  start) do_start ;;
  restart) kafka_stop; do_start ;;
  status)
    pid=$(kafka_pid)
    if [[ -n $pid ]]; then echo "Kafka running (pid $pid) on $KAFKA_BROKERS"; else echo "Kafka not running"; exit 1; fi ;;
  *) echo "usage: $0 stop|start|restart|status" >&2; exit 2 ;;
esac
