export { VaultDouble, type RecordedRequest, type VaultDoubleTls } from './vault-double.js';
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
export { GmailDouble, type GmailSeedMessage, type SentGmailMessage } from './gmail-double.js';
export { type GmailLabel } from './gmail-mailbox.js';
export { CalendarDouble, type CalendarEvent, type CalendarEventTime } from './calendar-double.js';
export { type GoogleApiRequest, type HeldRequest } from './google-api-double.js';
export { MerchantDouble, type MerchantOrder } from './merchant-double.js';
export {
  ChatModelDouble,
  lastUserText,
  messageText,
  offeredTools,
  toolResults,
  type ChatMessage,
  type ChatModelDoubleOptions,
  type ChatRequest,
  type ChatTextPart,
  type ChatTool,
  type ChatToolCall,
  type ChatToolChoice,
  type ScriptedAnswer,
  type ScriptedError,
  type ScriptedHang,
  type ScriptedReply,
  type ScriptedReplyFunction,
  type ScriptedToolCall,
  type ScriptedTurn,
  type ToolResult,
} from './chat-model-double.js';
