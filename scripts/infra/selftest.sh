#!/usr/bin/env bash
# Proves the running infrastructure works the way the platform uses it (run up.sh first):
#   PostgreSQL: password login over TCP with DATABASE_URL, DDL, CREATE DATABASE
#   Kafka:      CLI produce/consume, then kafkajs producing across a kafka-ctl.sh stop/start
#   VersityGW:  S3 via @aws-sdk/client-s3 v3 (path-style, multipart)
#   moto:       ECS Run/Describe/StopTask
# The npm clients are installed outside the repo, in ~/.cache/platform-infra/selftest-node.
# Note: the Kafka part restarts the broker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -f $INFRA_STATE_DIR/env ]] || die "no $INFRA_STATE_DIR/env: run scripts/infra/up.sh first"
# shellcheck disable=SC1091
source "$INFRA_STATE_DIR/env"

node_dir=$INFRA_CACHE_DIR/selftest-node
deps=(@aws-sdk/client-s3@3.1175.0 @aws-sdk/lib-storage@3.1175.0 @aws-sdk/client-ecs@3.1164.0 kafkajs@2.2.4)
if [[ ! -f $node_dir/.deps || $(<"$node_dir/.deps") != "${deps[*]}" ]]; then
  log "installing ${deps[*]} into $node_dir"
  mkdir -p "$node_dir" && echo '{"private":true,"type":"module"}' >"$node_dir/package.json"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund "${deps[@]}" >&2)
  echo "${deps[*]}" >"$node_dir/.deps"
fi
cp "$INFRA_SCRIPTS_DIR"/selftest/*.mjs "$node_dir/"
# The AWS SDK warns on every run that Node 20 support ends in 2027; keep the output readable.
export NODE_NO_WARNINGS=1

passed=0 failed=0
result() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

pg_check() {
  log "PostgreSQL"
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -t -A \
    -c 'create temp table t(id serial primary key, v text)' -c "insert into t(v) values ('x')" -c 'select count(*) from t' >/dev/null &&
  psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c 'create database infra_selftest_scratch' -c 'drop database infra_selftest_scratch' &&
  echo "ok   postgres: login, DDL/DML, CREATE DATABASE"
}
kafka_cli_check() {
  log "Kafka CLI"
  local topic=infra-selftest-cli-$$ cli=$INFRA_SCRIPTS_DIR/kafka-cli.sh out
  kafka_credentials # the CLI logs in as the broker's own super user (SASL)
  seq 1 100 | "$cli" producer --bootstrap-server "$KAFKA_BROKERS" --producer.config "$KAFKA_ADMIN_CONFIG" --topic "$topic" --producer-property acks=all
  out=$("$cli" consumer --bootstrap-server "$KAFKA_BROKERS" --consumer.config "$KAFKA_ADMIN_CONFIG" --topic "$topic" --from-beginning --max-messages 100 --timeout-ms 20000 2>/dev/null)
  "$cli" topics --bootstrap-server "$KAFKA_BROKERS" --command-config "$KAFKA_ADMIN_CONFIG" --delete --topic "$topic" || true
  [[ $(wc -l <<<"$out") == 100 ]] && echo "ok   kafka: console producer/consumer (auto-created topic)"
}

result pg_check
result kafka_cli_check
log "Kafka restart with kafkajs"
result env KAFKA_CTL="$INFRA_SCRIPTS_DIR/kafka-ctl.sh" node "$node_dir/kafka-restart.mjs"
log "S3 (VersityGW)"
result node "$node_dir/s3.mjs"
log "ECS (moto)"
read -r subnet sg < <("$(moto_venv)/bin/python" - "$ECS_ENDPOINT" "$AWS_REGION" <<'PY'
import sys, boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name=sys.argv[2])
subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"][0]["SubnetId"]
sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
print(subnet, sg)
PY
)
result env ECS_TEST_SUBNET="$subnet" ECS_TEST_SG="$sg" node "$node_dir/ecs.mjs"

echo "infra selftest suites: $passed passed, $failed failed"
((failed == 0))
