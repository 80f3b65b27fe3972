// The client SDK's public surface, for Node and the browser alike.
export {
  type CallName,
  type ClientOptions,
  type RpcCalls,
  type Subscription,
  type SubscriptionFilter,
  WattcapClient,
} from "./client.js";
export {
  commitFromJson,
  headerFromJson,
  proofFromJson,
  validatorFromJson,
  validatorSetFromJson,
} from "./convert.js";
export {
  genesisTrust,
  type HeaderSource,
  LightClient,
  type TrustRoot,
  type Verified,
  type VerifiedHeader,
  type VerifyFailure,
  type VerifyFailureCode,
} from "./light-client.js";
export { type Proven, provenAccount, provenCredits, provenState } from "./proven.js";
export { type SignedIn, signIn } from "./sign-in.js";
export {
  type FetchFn,
  type HttpOptions,
  HttpTransport,
  RpcClientError,
  type SocketLike,
  type Transport,
  TransportError,
  type TransportErrorCode,
  type WebSocketConstructor,
  type WsOptions,
  WsTransport,
} from "./transport.js";
export {
  type BuiltTx,
  buildSignedTx,
  buildTxBody,
  payloadBytes,
  type Sent,
  Signer,
  TxBuildError,
  type TxBuildErrorCode,
  type TxStatus,
  type WaitOptions,
  waitForFinality,
} from "./tx-builder.js";
