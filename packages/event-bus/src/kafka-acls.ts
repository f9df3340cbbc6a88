import kafkajs from 'kafkajs';
import { kafkaClientConfig, type KafkaEventBusOptions } from './kafka.ts';

// kafkajs is CommonJS, and Node's ESM loader does not see these enums as named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, ResourcePatternTypes } = kafkajs;

/**
 * The ACLs of the builds' Kafka principal: WRITE (which implies DESCRIBE and, since Kafka 3,
 * idempotent produce) on the build-events topic, and nothing else: no READ of any topic, no
 * consumer group, no other topic, no CREATE. The platform's own principal is a super user
 * (`super.users`) and needs none. Applied with the platform's credentials (`admin`);
 * granting the same ACL again is harmless. `npm run infra:up` sets the same ACL with Kafka's
 * own CLI.
 */
export async function grantBuildProducer(admin: KafkaEventBusOptions, grant: { principal: string; topic: string }): Promise<void> {
  const client = new Kafka(kafkaClientConfig(admin)).admin();
  await client.connect();
  try {
    await client.createAcls({
      acl: [
        {
          resourceType: AclResourceTypes.TOPIC,
          resourceName: grant.topic,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal: grant.principal.startsWith('User:') ? grant.principal : `User:${grant.principal}`,
          host: '*',
          operation: AclOperationTypes.WRITE,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
  } finally {
    await client.disconnect();
  }
}
