import { describeEventBusContract } from './event-bus.contract.ts';
import { createInProcessEventBus } from './in-process.ts';

describeEventBusContract('in-process (embedded)', async () => ({ bus: createInProcessEventBus({ retryBaseMs: 10 }) }), {
  retainsMessages: false,
  sharedGroups: false,
  deliveryTimeoutMs: 5_000,
});
