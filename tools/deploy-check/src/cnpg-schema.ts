import { z } from 'zod';

/**
 * The CloudNativePG fields deploy/k8s uses (`postgresql.cnpg.io/v1`), written from the operator's
 * API reference (no CRD schema is published to the npm registry). Strict: a misspelt or unknown
 * field fails here, as the API server would refuse it against the CRD's structural schema.
 */
const secretRef = z.strictObject({ name: z.string().min(1) });
const secretKeyRef = z.strictObject({ name: z.string().min(1), key: z.string().min(1) });
const quantity = z.string().regex(/^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti)?$/, 'must be a quantity');

const role = z.strictObject({
  name: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/),
  comment: z.string().optional(),
  ensure: z.enum(['present', 'absent']).optional(),
  login: z.boolean().optional(),
  superuser: z.boolean().optional(),
  createdb: z.boolean().optional(),
  createrole: z.boolean().optional(),
  inherit: z.boolean().optional(),
  replication: z.boolean().optional(),
  bypassrls: z.boolean().optional(),
  connectionLimit: z.number().int().min(-1).optional(),
  validUntil: z.string().optional(),
  inRoles: z.array(z.string()).optional(),
  passwordSecret: secretRef.optional(),
  disablePassword: z.boolean().optional(),
});

const compression = z.enum(['gzip', 'bzip2', 'snappy', 'lz4', 'xz', 'zstd']);
const encryption = z.enum(['AES256', 'aws:kms']);

const barmanObjectStore = z.strictObject({
  destinationPath: z.string().regex(/^(s3|gs|https?):\/\//, 'must be an object store URL'),
  endpointURL: z.url().optional(),
  serverName: z.string().optional(),
  s3Credentials: z
    .strictObject({
      accessKeyId: secretKeyRef.optional(),
      secretAccessKey: secretKeyRef.optional(),
      region: secretKeyRef.optional(),
      sessionToken: secretKeyRef.optional(),
      inheritFromIAMRole: z.boolean().optional(),
    })
    .optional(),
  wal: z
    .strictObject({
      compression: compression.optional(),
      encryption: encryption.optional(),
      maxParallel: z.number().int().min(1).optional(),
    })
    .optional(),
  data: z
    .strictObject({
      compression: compression.optional(),
      encryption: encryption.optional(),
      jobs: z.number().int().min(1).optional(),
    })
    .optional(),
});

const storage = z.strictObject({ size: quantity, storageClass: z.string().optional() });
const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});

/** `Cluster` (postgresql.cnpg.io/v1), the fields used. */
export const cnpgClusterSchema = z.strictObject({
  apiVersion: z.literal('postgresql.cnpg.io/v1'),
  kind: z.literal('Cluster'),
  metadata: z.object({ name: z.string(), namespace: z.string() }),
  spec: z.strictObject({
    instances: z.number().int().min(1),
    imageName: z.string().min(1),
    primaryUpdateStrategy: z.enum(['unsupervised', 'supervised']).optional(),
    enableSuperuserAccess: z.boolean().optional(),
    superuserSecret: secretRef.optional(),
    bootstrap: z
      .strictObject({
        initdb: z.strictObject({
          database: z.string().min(1),
          owner: z.string().min(1),
          secret: secretRef.optional(),
        }),
      })
      .optional(),
    postgresql: z
      .strictObject({
        parameters: z.record(z.string(), z.string()).optional(),
        pg_hba: z.array(z.string()).optional(),
      })
      .optional(),
    certificates: z
      .strictObject({
        serverTLSSecret: z.string().optional(),
        serverCASecret: z.string().optional(),
        clientCASecret: z.string().optional(),
        replicationTLSSecret: z.string().optional(),
      })
      .optional(),
    storage,
    walStorage: storage.optional(),
    resources: resources.optional(),
    affinity: z
      .strictObject({
        enablePodAntiAffinity: z.boolean().optional(),
        topologyKey: z.string().optional(),
        podAntiAffinityType: z.enum(['preferred', 'required']).optional(),
      })
      .optional(),
    managed: z.strictObject({ roles: z.array(role) }).optional(),
    backup: z
      .strictObject({
        retentionPolicy: z
          .string()
          .regex(/^[1-9][0-9]*[dwm]$/, 'must be like 30d, 4w or 3m')
          .optional(),
        barmanObjectStore: barmanObjectStore.optional(),
      })
      .optional(),
  }),
});

/** `ScheduledBackup` (postgresql.cnpg.io/v1), the fields used. */
export const cnpgScheduledBackupSchema = z.strictObject({
  apiVersion: z.literal('postgresql.cnpg.io/v1'),
  kind: z.literal('ScheduledBackup'),
  metadata: z.object({ name: z.string(), namespace: z.string() }),
  spec: z.strictObject({
    // CloudNativePG's schedules have six fields: seconds first.
    schedule: z
      .string()
      .refine(
        (text) => text.trim().split(/\s+/).length === 6,
        'must have six fields (seconds first)',
      ),
    immediate: z.boolean().optional(),
    suspend: z.boolean().optional(),
    backupOwnerReference: z.enum(['none', 'self', 'cluster']).optional(),
    method: z.enum(['barmanObjectStore', 'volumeSnapshot', 'plugin']).optional(),
    target: z.enum(['primary', 'prefer-standby']).optional(),
    cluster: secretRef,
  }),
});
