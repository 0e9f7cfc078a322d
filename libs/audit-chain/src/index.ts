export {
  GENESIS_HASH,
  EMPTY_ROOT,
  canonicalEnvelope,
  chainHash,
  checkpointDigest,
  leafHash,
  nodeHash,
} from './hashing.js';
export {
  MerkleFrontier,
  merkleRoot,
  inclusionProof,
  consistencyProof,
  verifyInclusion,
  verifyConsistency,
} from './merkle.js';
export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  bundleHeaderSchema,
  bundleKeySchema,
  bundleEventSchema,
  bundleCheckpointSchema,
  bundleLineSchema,
  bundleLines,
  checkpointOrder,
  headerLine,
  keyLine,
  eventLine,
  checkpointLine,
  type BundleHeader,
  type BundleKey,
  type BundleEvent,
  type BundleCheckpoint,
  type BundleLine,
} from './bundle.js';
export {
  BundleVerifier,
  verifyBundleLines,
  type VerifyOptions,
  type VerificationProblemCode,
} from './verify.js';
export {
  TenantChain,
  linkTo,
  type ChainHead,
  type ChainLink,
  type CheckpointLink,
  type AppendedRecord,
} from './chain.js';
export {
  IncomingChecker,
  type IncomingMessage,
  type CheckedMessage,
  type EventColumns,
  type TrustedKey,
  type QuarantineReason,
} from './incoming.js';
export { VerifierPool } from './verifier-pool.js';
export {
  checkConsistency,
  parseKeptCheckpoint,
  type NextConsistencyPage,
  type WitnessOptions,
  type WitnessReport,
  type WitnessProblemCode,
} from './witness.js';
