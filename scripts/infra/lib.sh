# shellcheck shell=bash disable=SC2034,SC2317  # (vars used by the scripts that source this; helpers called indirectly)
# Shared settings and helpers for scripts/infra/*.sh. Sourced, never run.
#
# Everything runs on loopback, without Docker:
#   PostgreSQL 15 (Debian package)        127.0.0.1:5432
#   Kafka 4.x KRaft broker+controller     127.0.0.1:9092 (clients), 127.0.0.1:9093 (controller)
#   moto server (ECS, STS + ... APIs)     127.0.0.1:4566
#   VersityGW (S3 over a folder)          127.0.0.1:7070
#
# State that must survive restarts (Kafka data, pid and log files) lives in
# <repo>/.infra (gitignored). Downloads (Kafka jars, moto venv) are cached in
# ~/.cache/platform-infra so a second run installs nothing.

INFRA_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INFRA_SCRIPTS_DIR/../.." && pwd)
INFRA_STATE_DIR=${INFRA_STATE_DIR:-$REPO_ROOT/.infra}
INFRA_CACHE_DIR=${INFRA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/platform-infra}

PG_VERSION=15
PG_CLUSTER=main
PG_PORT=5432
PG_USER=platform
PG_PASSWORD=platform
PG_DATABASE=platform
DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DATABASE"

KAFKA_VERSION=${INFRA_KAFKA_VERSION:-4.1.1}
# Overridable so a second broker can be tried with this script without touching the shared one.
KAFKA_PORT=${INFRA_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${INFRA_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
KAFKA_LIBS=$INFRA_CACHE_DIR/kafka-$KAFKA_VERSION/libs
KAFKA_STATE=$INFRA_STATE_DIR/kafka
KAFKA_PROPS=$KAFKA_STATE/server.properties
KAFKA_PIDFILE=$KAFKA_STATE/kafka.pid
KAFKA_LOG=$KAFKA_STATE/kafka.log
# SASL: passwords generated once (owner-only); the CLI tools log in with the broker's own
# PLAIN user, a super user like `platform` (SCRAM-SHA-512, what the services use). `build`
# may only produce to build-events* topics (the ACL kafka_ensure_principals sets).
KAFKA_CREDENTIALS=$KAFKA_STATE/credentials
KAFKA_ADMIN_CONFIG=$KAFKA_STATE/admin.properties
KAFKA_PLATFORM_USER=platform
KAFKA_BUILD_USER=build
# Broker JVM: small heap (tests only) + the GC flags of Kafka's kafka-run-class.sh.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_JVM_OPTS="-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -Djava.awt.headless=true"

MOTO_VERSION=5.2.1 # must match moto== in moto/requirements.lock.txt
MOTO_PORT=4566
MOTO_URL="http://127.0.0.1:$MOTO_PORT"
MOTO_STATE=$INFRA_STATE_DIR/moto
MOTO_PIDFILE=$MOTO_STATE/moto.pid
MOTO_LOG=$MOTO_STATE/moto.log

# VersityGW: a real S3 server (Go, Apache-2.0) for object storage; moto stays for ECS and STS,
# which nothing else here answers. moto is CPU-bound Python (about 390 small PUTs/s on
# loopback), so an upload benchmark against it measures moto.
VERSITYGW_VERSION=v1.8.0
VERSITYGW_PORT=7070
VERSITYGW_URL="http://127.0.0.1:$VERSITYGW_PORT"
VERSITYGW_ACCESS_KEY=platform
VERSITYGW_SECRET_KEY=platform-test-secret
VERSITYGW_STATE=$INFRA_STATE_DIR/versitygw
VERSITYGW_PIDFILE=$VERSITYGW_STATE/versitygw.pid
VERSITYGW_LOG=$VERSITYGW_STATE/versitygw.log
VERSITYGW_BIN=$INFRA_CACHE_DIR/go/bin/versitygw-$VERSITYGW_VERSION

# Go, for servers installed from the Go module proxy: the machine's own when new enough, else
# the toolchain the module proxy serves (golang.org/toolchain), unpacked into the cache.
GO_MIN_VERSION=1.25
GO_TOOLCHAIN_VERSION=1.25.5

S3_BUCKET=platform-test
AWS_REGION=us-east-1

# ---------------------------------------------------------------- generic helpers

log() { printf '[infra %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp: no nc needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until <seconds> <description> <command...>: retry the command every 0.25 s.
wait_until() {
  local timeout=$1 what=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || { log "timed out after ${timeout}s waiting for $what"; return 1; }
    sleep 0.25
  done
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# pid_matches <pid> <pattern>: the process exists and its command line contains pattern
# (guards against killing an unrelated process that reused a stale pid).
pid_matches() {
  pid_alive "$1" && [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# pid of the process listening on 127.0.0.1:<port>, empty if none or unknown.
listener_pid() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

# service_pid <pidfile> <port> <pattern>: pid of our service, found by its pid file
# or, if that is missing (e.g. started from another checkout of the repo), by the
# process listening on its port. Prints nothing when the service is not running.
service_pid() {
  local pidfile=$1 port=$2 pattern=$3 pid=""
  [[ -f $pidfile ]] && pid=$(<"$pidfile")
  if pid_matches "$pid" "$pattern"; then echo "$pid"; return; fi
  pid=$(listener_pid "$port")
  if pid_matches "$pid" "$pattern"; then echo "$pid"; fi
}

# stop_pid <pid> <name> <grace seconds>: SIGTERM (clean shutdown), SIGKILL after the grace time.
stop_pid() {
  local pid=$1 name=$2 grace=$3
  pid_alive "$pid" || return 0
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if pid_alive "$pid"; then
    log "$name did not stop within ${grace}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do sleep 0.1; done
  fi
}

# start_daemon <pidfile> <logfile> <command...>: run in the background, detached
# (own session via setsid: a Ctrl-C or a test runner killing its process group does
# not take the server down), stdout/stderr appended to the log file.
start_daemon() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  printf '\n===== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

APT_UPDATED=0
# apt_install <packages...>: `apt-get update` once per run, only when something is missing.
apt_install() {
  [[ $(id -u) == 0 ]] || die "need root to apt-get install $* (or install it yourself)"
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --------------------------------------------------------------------------- kafka

kafka_java() { java -XX:TieredStopAtLevel=1 -Xmx256m -Dlog4j2.configurationFile="$INFRA_SCRIPTS_DIR/kafka/tools-log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"; }

# Kafka 4 needs Java 17+ and we need Maven to fetch the jars.
kafka_ensure_java() {
  local major=0
  if command -v java >/dev/null; then
    major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    major=${major%%.*}
  fi
  if ((major < 17)); then apt_install openjdk-17-jre-headless; fi
  if [[ ! -f $KAFKA_LIBS/.complete ]] && ! command -v mvn >/dev/null; then apt_install maven; fi
}

# Copies the broker + tools jars from Maven Central into the cache (once per version).
# A marker file, written last, makes an interrupted download retry next time.
kafka_ensure_libs() {
  local pom=$INFRA_SCRIPTS_DIR/kafka/pom.xml stamp
  stamp="$KAFKA_VERSION $(sha256sum "$pom" | cut -c1-16)"
  if [[ -f $KAFKA_LIBS/.complete && $(<"$KAFKA_LIBS/.complete") == "$stamp" ]]; then return; fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  local tmp=$KAFKA_LIBS.tmp
  rm -rf "$tmp" && mkdir -p "$tmp"
  # Output kept aside and shown only on failure (even -q prints stray colour codes).
  if ! mvn -q -B -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log"; die "mvn could not fetch Kafka $KAFKA_VERSION (output above)"
  fi
  rm -f "$tmp.log"
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "Kafka jar missing after mvn"
  echo "$stamp" >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS" && mv "$tmp" "$KAFKA_LIBS"
}

# Generates the three passwords once, then loads them (KAFKA_BROKER_PASSWORD,
# KAFKA_PLATFORM_PASSWORD, KAFKA_BUILD_PASSWORD) and writes the CLI tools' login.
kafka_credentials() {
  mkdir -p "$KAFKA_STATE"
  if [[ ! -s $KAFKA_CREDENTIALS ]]; then
    (umask 077 && printf 'KAFKA_BROKER_PASSWORD=%s\nKAFKA_PLATFORM_PASSWORD=%s\nKAFKA_BUILD_PASSWORD=%s\n' \
      "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" "$(openssl rand -hex 16)" >"$KAFKA_CREDENTIALS.tmp")
    mv "$KAFKA_CREDENTIALS.tmp" "$KAFKA_CREDENTIALS"
  fi
  # shellcheck disable=SC1090
  source "$KAFKA_CREDENTIALS"
  (umask 077 && printf '%s\n' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism=PLAIN' \
    "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"$KAFKA_BROKER_PASSWORD\";" \
    >"$KAFKA_ADMIN_CONFIG")
}

# The services' SCRAM users and the build principal's one ACL, set through the running
# broker (so a data folder formatted before SASL was on gets them too); both are idempotent.
kafka_ensure_principals() {
  kafka_credentials
  local user password
  for user in "$KAFKA_PLATFORM_USER" "$KAFKA_BUILD_USER"; do
    if [[ $user == "$KAFKA_PLATFORM_USER" ]]; then password=$KAFKA_PLATFORM_PASSWORD; else password=$KAFKA_BUILD_PASSWORD; fi
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" \
      --alter --entity-type users --entity-name "$user" --add-config "SCRAM-SHA-512=[password=$password]" >>"$KAFKA_LOG" 2>&1 \
      || die "could not set the SCRAM user $user (see $KAFKA_LOG)"
  done
  # Prefixed: tests use topics of their own (build-events-<run>); production grants the one topic (literal).
  kafka_java org.apache.kafka.tools.AclCommand --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" \
    --add --allow-principal "User:$KAFKA_BUILD_USER" --operation Write --topic build-events --resource-pattern-type prefixed >>"$KAFKA_LOG" 2>&1 \
    || die "could not set the build principal's ACL (see $KAFKA_LOG)"
}

# (Re)writes server.properties (cheap, keeps it in sync with this script) and
# formats the KRaft storage once. Formatting again would wipe the cluster id,
# so an existing meta.properties is never touched.
kafka_prepare() {
  mkdir -p "$KAFKA_STATE/data"
  kafka_credentials
  local plain="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"$KAFKA_BROKER_PASSWORD\" user_broker=\"$KAFKA_BROKER_PASSWORD\";"
  touch "$KAFKA_PROPS" && chmod 600 "$KAFKA_PROPS"
  cat >"$KAFKA_PROPS" <<EOF
# Generated by scripts/infra/lib.sh (kafka_prepare); edits are overwritten.
# Single node that is both the KRaft controller and the broker.
process.roles=broker,controller
node.id=1
# Static quorum of one voter: needs no --standalone/--initial-controllers at format time.
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
# SASL only, no PLAINTEXT listener: clients log in with SCRAM-SHA-512; the broker talks to
# its controller and itself with PLAIN as 'broker' (a KRaft controller cannot use SCRAM: its
# credentials live in the metadata it serves).
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain
listener.name.sasl_plaintext.plain.sasl.jaas.config=$plain
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# Nothing is allowed without an ACL, but to the super users.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:$KAFKA_PLATFORM_USER
allow.everyone.if.no.acl.found=false
log.dirs=$KAFKA_STATE/data
num.partitions=1
auto.create.topics.enable=true
# One broker: every internal topic must have replication factor 1.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions: the first consumer group comes up in ~1 s instead of
# waiting for 50 __consumer_offsets partitions to be created on 2 cores.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Consumers join immediately instead of after 3 s.
group.initial.rebalance.delay.ms=0
# After a crash (SIGKILL) the restarted broker cannot register until the old
# registration's session expires: 4 s instead of the default 9 s.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=4000
EOF
  if [[ ! -f $KAFKA_STATE/data/meta.properties ]]; then
    local cluster_id
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid)
    log "formatting KRaft storage in $KAFKA_STATE/data (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_PROPS" >>"$KAFKA_LOG" 2>&1 \
      || { tail -n 20 "$KAFKA_LOG" >&2; die "kafka storage format failed (see $KAFKA_LOG)"; }
  fi
}

kafka_pid() { service_pid "$KAFKA_PIDFILE" "$KAFKA_PORT" kafka.Kafka; }

# Starts the broker from $KAFKA_PROPS, or replays the exact command line of the
# broker that kafka_stop last stopped (so a broker started from another checkout
# of the repo comes back with its own data dir). Returns once the port accepts.
kafka_start() {
  if [[ -n $(kafka_pid) ]]; then return 0; fi
  if port_open "$KAFKA_PORT"; then
    die "port $KAFKA_PORT is taken by something that is not our Kafka (pid $(listener_pid "$KAFKA_PORT"))"
  fi
  local replay=$KAFKA_STATE/last-stopped.cmdline
  if [[ -s $replay ]]; then
    local -a argv; mapfile -d '' argv <"$replay"
    local cwd log; cwd=$(<"$KAFKA_STATE/last-stopped.cwd"); log=$(<"$KAFKA_STATE/last-stopped.log")
    log "starting Kafka broker again with the command line it was stopped with"
    (cd "$cwd" && start_daemon "$KAFKA_PIDFILE" "$log" "${argv[@]}")
    rm -f "$replay" "$KAFKA_STATE"/last-stopped.*
  else
    log "starting Kafka $KAFKA_VERSION broker (log: $KAFKA_LOG)"
    # shellcheck disable=SC2086 # heap/JVM opts are intentionally word-split
    (cd "$KAFKA_STATE" && start_daemon "$KAFKA_PIDFILE" "$KAFKA_LOG" \
      java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS \
      -Dlog4j2.configurationFile="$INFRA_SCRIPTS_DIR/kafka/log4j2.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS")
  fi
  local pid; pid=$(<"$KAFKA_PIDFILE")
  kafka_port_up() { pid_alive "$pid" || die "Kafka exited during startup; last log lines:$(printf '\n'; tail -n 30 "$KAFKA_LOG")"; port_open "$KAFKA_PORT"; }
  wait_until 90 "Kafka port $KAFKA_PORT" kafka_port_up
}

# Port open is not enough: wait until the controller accepts metadata writes
# (topic creation) and, with --deep, until a produce + consumer-group fetch round
# trip works (this also creates __consumer_offsets so tests don't pay for it).
kafka_wait_ready() {
  local deep=${1:-}
  kafka_credentials
  kafka_topic_ok() {
    kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" \
      --create --if-not-exists --topic __infra_healthcheck --partitions 1 --replication-factor 1 >/dev/null 2>&1
  }
  wait_until 60 "Kafka to accept topic creation" kafka_topic_ok
  if [[ $deep == --deep ]]; then
    local msg="ready-$RANDOM$RANDOM"
    echo "$msg" | kafka_java org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$KAFKA_BROKERS" --producer.config "$KAFKA_ADMIN_CONFIG" \
      --topic __infra_healthcheck --producer-property acks=all >/dev/null
    # The group's committed offset points at the oldest unread message; that is ours
    # unless an earlier check was interrupted, hence a few tries.
    local got=""
    for _ in 1 2 3 4 5; do
      got=$(kafka_java org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$KAFKA_BROKERS" --consumer.config "$KAFKA_ADMIN_CONFIG" \
        --topic __infra_healthcheck --group __infra_healthcheck --from-beginning \
        --max-messages 1 --timeout-ms 30000 2>/dev/null || true)
      [[ $got == "$msg" ]] && return 0
    done
    die "Kafka produce/consume check failed: expected '$msg', got '$got' (see $KAFKA_LOG)"
  fi
}

# Stops the broker cleanly (SIGTERM -> controlled shutdown, logs flushed), keeping
# its data. Records how it was started so kafka_start can bring back the same one.
kafka_stop() {
  local pid; pid=$(kafka_pid)
  if [[ -z $pid ]]; then log "Kafka is not running"; rm -f "$KAFKA_PIDFILE"; return 0; fi
  mkdir -p "$KAFKA_STATE"
  cat "/proc/$pid/cmdline" >"$KAFKA_STATE/last-stopped.cmdline.tmp"
  readlink "/proc/$pid/cwd" >"$KAFKA_STATE/last-stopped.cwd"
  local out; out=$(readlink "/proc/$pid/fd/1" || true)
  [[ $out == /* && -f $out ]] || out=$KAFKA_LOG
  echo "$out" >"$KAFKA_STATE/last-stopped.log"
  mv "$KAFKA_STATE/last-stopped.cmdline.tmp" "$KAFKA_STATE/last-stopped.cmdline"
  stop_pid "$pid" "Kafka broker" 60
  rm -f "$KAFKA_PIDFILE"
}

# ---------------------------------------------------------------------------- moto

# moto runs from its own venv (pinned versions, no clash with the machine's Python
# packages). The venv path includes a hash of the lock file, so changing the lock
# builds a fresh venv instead of mutating the old one.
moto_venv() { echo "$INFRA_CACHE_DIR/moto-$MOTO_VERSION-$(sha256sum "$INFRA_SCRIPTS_DIR/moto/requirements.lock.txt" | cut -c1-8)/venv"; }

moto_ensure_installed() {
  local venv; venv=$(moto_venv)
  [[ -f $venv/.complete ]] && return 0
  command -v python3 >/dev/null || apt_install python3 python3-venv
  log "installing moto[server] $MOTO_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$venv"; }
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$INFRA_SCRIPTS_DIR/moto/requirements.lock.txt"
  touch "$venv/.complete"
}

moto_pid() { service_pid "$MOTO_PIDFILE" "$MOTO_PORT" moto; }

# moto's own API answers once the server is up (every AWS service shares the port).
moto_http_ok() {
  "$(moto_venv)/bin/python" - "$MOTO_URL/moto-api/" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
EOF
}

# ------------------------------------------------------------------------------ Go

# Prints the path of a go binary of at least $GO_MIN_VERSION, downloading one when needed.
go_ensure() {
  local have
  if command -v go >/dev/null; then
    have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
    if [[ -n $have ]] && printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V -C; then command -v go; return 0; fi
  fi
  local root=$INFRA_CACHE_DIR/go-toolchain-$GO_TOOLCHAIN_VERSION
  local bin=$root/golang.org/toolchain@v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-amd64/bin/go
  if [[ ! -x $bin ]]; then
    log "installing Go $GO_TOOLCHAIN_VERSION from the Go module proxy into $root"
    command -v curl >/dev/null || apt_install curl
    command -v unzip >/dev/null || apt_install unzip
    local zip=$root.zip.tmp
    # Called inside $(...), where errexit does not reach: every step checks itself.
    mkdir -p "$INFRA_CACHE_DIR" || die "cannot create $INFRA_CACHE_DIR"
    curl -fsSL -o "$zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GO_TOOLCHAIN_VERSION.linux-amd64.zip" ||
      die "could not download Go $GO_TOOLCHAIN_VERSION from proxy.golang.org"
    { rm -rf "$root" && mkdir -p "$root" && unzip -q "$zip" -d "$root" && rm -f "$zip"; } || die "could not unpack $zip"
    chmod +x "$root"/golang.org/toolchain@*/bin/* "$root"/golang.org/toolchain@*/pkg/tool/*/* 2>/dev/null || true
  fi
  [[ -x $bin ]] || die "no go binary at $bin after unpacking the toolchain"
  echo "$bin"
}

# go_install <module/cmd@version> <target binary>: builds once into the cache.
go_install() {
  local pkg=$1 target=$2
  [[ -x $target ]] && return 0
  local go; go=$(go_ensure) || exit 1
  log "building $pkg (once; cached in $target)"
  local gopath=$INFRA_CACHE_DIR/go
  mkdir -p "$gopath/bin"
  GOPATH=$gopath GOBIN=$gopath/bin.tmp GOFLAGS=-buildvcs=false GOTOOLCHAIN=local "$go" install "$pkg" ||
    die "go install $pkg failed"
  mv "$gopath/bin.tmp/$(basename "${pkg%@*}")" "$target"
  rm -rf "$gopath/bin.tmp"
}

# ------------------------------------------------------------------------- VersityGW

versitygw_pid() { service_pid "$VERSITYGW_PIDFILE" "$VERSITYGW_PORT" versitygw; }

versitygw_up() {
  go_install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" "$VERSITYGW_BIN"
  mkdir -p "$VERSITYGW_STATE/data/$S3_BUCKET"
  if [[ -n $(versitygw_pid) ]]; then
    log "VersityGW already running (pid $(versitygw_pid))"
  elif port_open "$VERSITYGW_PORT"; then
    die "port $VERSITYGW_PORT is taken by something that is not VersityGW (pid $(listener_pid "$VERSITYGW_PORT"))"
  else
    log "starting VersityGW $VERSITYGW_VERSION (log: $VERSITYGW_LOG)"
    # The posix backend: a bucket is a folder of the data folder, an object a file in it.
    ROOT_ACCESS_KEY=$VERSITYGW_ACCESS_KEY ROOT_SECRET_KEY=$VERSITYGW_SECRET_KEY \
      start_daemon "$VERSITYGW_PIDFILE" "$VERSITYGW_LOG" "$VERSITYGW_BIN" --port "127.0.0.1:$VERSITYGW_PORT" \
      posix "$VERSITYGW_STATE/data"
  fi
  local pid; pid=$(versitygw_pid)
  versitygw_ok() {
    [[ -z $pid ]] || pid_alive "$pid" || die "VersityGW exited; last log lines:$(printf '\n'; tail -n 30 "$VERSITYGW_LOG")"
    # Any HTTP answer (an anonymous request gets 403) means the gateway serves.
    curl -s -o /dev/null -w '%{http_code}' "$VERSITYGW_URL/$S3_BUCKET" | grep -q '^[2-4]'
  }
  wait_until 30 "VersityGW on $VERSITYGW_URL" versitygw_ok
  log "VersityGW ready on $VERSITYGW_URL (bucket $S3_BUCKET)"
}

versitygw_stop() {
  local pid; pid=$(versitygw_pid)
  if [[ -n $pid ]]; then stop_pid "$pid" "VersityGW" 15; else log "VersityGW is not running"; fi
  rm -f "$VERSITYGW_PIDFILE"
}
