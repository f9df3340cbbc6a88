#!/usr/bin/env bash
# Runs Kafka's own command-line tools from the cached jars (there is no Kafka
# distribution with bin/*.sh here). Short names for the usual ones, or a class name:
#   scripts/infra/kafka-cli.sh topics   --bootstrap-server 127.0.0.1:9092 --list
#   scripts/infra/kafka-cli.sh producer --bootstrap-server 127.0.0.1:9092 --topic t   (reads lines from stdin)
#   scripts/infra/kafka-cli.sh consumer --bootstrap-server 127.0.0.1:9092 --topic t --from-beginning --max-messages 10
#   scripts/infra/kafka-cli.sh groups   --bootstrap-server 127.0.0.1:9092 --describe --all-groups
#   scripts/infra/kafka-cli.sh org.apache.kafka.tools.GetOffsetShell --bootstrap-server 127.0.0.1:9092 --topic t
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || { sed -n '2,9p' "$0" >&2; exit 2; }
[[ -f $KAFKA_LIBS/.complete ]] || die "Kafka jars not cached yet: run scripts/infra/up.sh first"
tool=$1; shift
case $tool in
  topics) class=org.apache.kafka.tools.TopicCommand ;;
  producer) class=org.apache.kafka.tools.ConsoleProducer ;;
  consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  configs) class=org.apache.kafka.tools.ConfigCommand ;;
  get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
  metadata-quorum) class=org.apache.kafka.tools.MetadataQuorumCommand ;;
  storage) class=kafka.tools.StorageTool ;;
  *.*) class=$tool ;;
  *) die "unknown tool '$tool' (topics|producer|consumer|groups|configs|get-offsets|metadata-quorum|storage|<class>)" ;;
esac
kafka_java "$class" "$@"
