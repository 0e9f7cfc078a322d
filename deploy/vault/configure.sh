#!/bin/sh
# Configures a Vault (or OpenBao) for HeroAgent: the two engines vault-proxy uses, its policy, and the
# Kubernetes auth role that only vault-proxy's service account can log in with. Run once, with a
# token allowed to mount engines and write policies and auth roles (VAULT_ADDR, VAULT_TOKEN set).
# Idempotent but for the mounts, which Vault refuses twice (the errors are reported and ignored).
#   deploy/vault/configure.sh <kubernetes API URL> [<CA file of the Kubernetes API>]
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
api="${1:?usage: configure.sh <kubernetes API URL> [<kubernetes CA file>]}"
ca="${2:-}"

vault secrets enable -path=heroagent-kv -version=2 kv || echo "heroagent-kv: already mounted?" >&2
vault secrets enable -path=heroagent-transit transit || echo "heroagent-transit: already mounted?" >&2
vault policy write heroagent-vault-proxy "${here}/policies/heroagent-vault-proxy.hcl"

vault auth enable kubernetes 2>/dev/null || true
# Vault reviews vault-proxy's token with the TokenReview API: in the cluster, with its own service
# account; outside it, give it a reviewer token (token_reviewer_jwt=…) of an account bound to
# system:auth-delegator.
if [ -n "${ca}" ]; then
  vault write auth/kubernetes/config kubernetes_host="${api}" kubernetes_ca_cert=@"${ca}"
else
  vault write auth/kubernetes/config kubernetes_host="${api}"
fi
vault write auth/kubernetes/role/heroagent-vault-proxy @"${here}/kubernetes-role.json"
