import {
  Certificate,
  ClusterIssuer,
  Issuer,
} from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { z } from 'zod';
import { cnpgClusterSchema, cnpgScheduledBackupSchema } from './cnpg-schema.js';
import { objectId, type KubeObject } from './kustomize.js';

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'cert-manager.io/v1/Certificate': Certificate,
  'cert-manager.io/v1/Issuer': Issuer,
  'cert-manager.io/v1/ClusterIssuer': ClusterIssuer,
};
const SCHEMAS: Record<string, z.ZodType> = {
  'postgresql.cnpg.io/v1/Cluster': cnpgClusterSchema,
  'postgresql.cnpg.io/v1/ScheduledBackup': cnpgScheduledBackupSchema,
};

/**
 * Validates each object against its API type: Kubernetes' own and cert-manager's OpenAPI schemas
 * (kubernetes-models), CloudNativePG's from {@link cnpgClusterSchema}. An object of any other
 * type is a problem too: nothing goes unvalidated.
 */
export function validateObjects(objects: readonly KubeObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const type = `${object.apiVersion}/${object.kind}`;
    const Model = MODELS[type];
    const schema = SCHEMAS[type];
    if (Model !== undefined) {
      try {
        new Model(object as never).validate();
      } catch (error) {
        problems.push(`${objectId(object)}: ${(error as Error).message.split('\n')[0]}`);
      }
    } else if (schema !== undefined) {
      const result = schema.safeParse(object);
      if (!result.success) {
        for (const issue of result.error.issues)
          problems.push(`${objectId(object)}: ${issue.path.join('.')}: ${issue.message}`);
      }
    } else {
      problems.push(`${objectId(object)}: no schema for ${type}, so it cannot be validated`);
    }
  }
  return problems;
}
