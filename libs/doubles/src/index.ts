export { VaultDouble, type RecordedRequest } from './vault-double.js';
export { OAuthProviderDouble } from './oauth-provider-double.js';
export {
  OtlpReceiverDouble,
  type ReceivedExport,
  type ReceivedLogRecord,
} from './otlp-receiver-double.js';
export {
  OidcProviderDouble,
  GOOGLE_API_SCOPES,
  type OidcDoubleUser,
} from './oidc-provider-double.js';
export { TestBrowser } from './test-browser.js';
