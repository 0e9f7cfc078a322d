import { z } from 'zod';
import { tenantIdSchema, userIdSchema } from './common.js';
import { defineEvent } from './define.js';

/**
 * `gateway.keys.erased`: a gateway replica erased a person's data key in a tenant (or all of a
 * tenant's, without `userId`) and tells every replica, each of which forgets its unwrapped copy at
 * once rather than when the copy ages out. Only the gateway may publish it (deploy/nats). Lost,
 * it costs at most the copies' lifetime: vault-proxy has destroyed the key-encryption key, so no
 * copy can be fetched again.
 */
export const gatewayKeysErased = defineEvent({
  subjectPattern: 'gateway.keys.erased',
  payload: z.strictObject({ tenantId: tenantIdSchema, userId: userIdSchema.optional() }),
  description:
    "A person's (or a tenant's) data keys were erased: every gateway replica forgets them.",
});
