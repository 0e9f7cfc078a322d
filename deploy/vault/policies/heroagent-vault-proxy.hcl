# vault-proxy's Vault policy: exactly the paths services/vault-proxy/src/secrets/vault requests, with
# the mounts it is configured with (VAULT_KV_MOUNT=heroagent-kv, a KV version 2 engine, and
# VAULT_TRANSIT_MOUNT=heroagent-transit). tools/deploy-check drives the adapter through every
# operation and fails if a request is not allowed here, or if anything here is never requested.
# `+` is one path segment (a tenant, connection or key name); LIST paths end with `/`.

# Refresh tokens: one KV secret per tenant and connection.
path "heroagent-kv/data/tenants/+/connections/+" {
  capabilities = ["create", "read", "update"]
}
# Deleting a connection deletes every version of its secret (the metadata).
path "heroagent-kv/metadata/tenants/+/connections/+" {
  capabilities = ["delete"]
}
# Erasing a tenant lists its connections first.
path "heroagent-kv/metadata/tenants/+/connections/" {
  capabilities = ["list"]
}

# Key-encryption keys: one Transit key per tenant (t-<tenant>) and per person (u-<tenant>-<user>).
path "heroagent-transit/keys/+" {
  capabilities = ["create", "read", "update", "delete"]
}
path "heroagent-transit/keys/+/rotate" {
  capabilities = ["update"]
}
# Only to allow deletion before deleting a key (crypto-shredding).
path "heroagent-transit/keys/+/config" {
  capabilities = ["update"]
}
# Erasing a tenant lists the keys to find its own and its people's.
path "heroagent-transit/keys/" {
  capabilities = ["list"]
}
path "heroagent-transit/datakey/plaintext/+" {
  capabilities = ["update"]
}
path "heroagent-transit/decrypt/+" {
  capabilities = ["update"]
}
path "heroagent-transit/rewrap/+" {
  capabilities = ["update"]
}

# Its own login's token, renewed at two thirds of its TTL.
path "auth/token/renew-self" {
  capabilities = ["update"]
}
