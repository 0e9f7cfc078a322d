#!/bin/sh
# Prunes a `pnpm deploy --prod` tree to what runs: the Dockerfile's build stage and
# tools/deploy-check's test run this same script. Usage: prune-tree.sh <tree>
set -eu
tree="${1:?usage: prune-tree.sh <tree made by pnpm deploy>}"
[ -f "${tree}/package.json" ] && [ -d "${tree}/node_modules" ] || {
  echo "prune-tree.sh: ${tree} is not a pnpm deploy tree (no package.json and node_modules)" >&2
  exit 64
}
# The service's own sources, tests and build metadata.
rm -rf "${tree}/src" "${tree}/test" "${tree}"/tsconfig*.json "${tree}/vitest.config.ts"
# The workspace libraries' sources and tests (their exports resolve to dist/ outside the repository).
for package in "${tree}"/node_modules/.pnpm/*/node_modules/@heroagent/*; do
  rm -rf "${package}/src" "${package}/test"
done
find "${tree}" -name '*.tsbuildinfo' -type f -delete
