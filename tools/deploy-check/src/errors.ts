/** What a deploy check found wrong in its input (a manifest, a Dockerfile, a policy): coded, named. */
export class DeployCheckError extends Error {
  constructor(
    readonly code:
      | 'BAD_INPUT'
      | 'KUSTOMIZE_UNSUPPORTED'
      | 'PATCH_FAILED'
      | 'NATS_CONFIG_INVALID'
      | 'POLICY_INVALID'
      | 'DOCKERFILE_INVALID',
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'DeployCheckError';
  }
}
