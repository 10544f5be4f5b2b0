// Type declarations for diminuendo-client.js (docs/client.md).

export declare const PROTOCOL_VERSION: 1;

export type ErrorCode =
  | 'bad_request' | 'unknown_type' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'too_large'
  | 'rate_limited' | 'unavailable' | 'internal'
  // the client's own
  | 'disconnected' | 'timeout' | 'closed' | 'gap' | 'bad_frame';

export declare class DiminuendoError extends Error {
  readonly code: ErrorCode | string;
  /** For errors that pass by waiting: how long to wait before trying the same request again. */
  readonly retryAfterMs?: number;
}

export type SessionStatus = 'idle' | 'running' | 'archived';

export interface Session {
  id: string;
  tenantId: string;
  ownerId: string;
  title: string;
  status: SessionStatus;
  createdAt: number;
  updatedAt: number;
  lastSeq: number;
  epoch: string;
  agent: string;
  metadata: Record<string, unknown>;
}

export type EventKind =
  | 'user_message' | 'turn_started' | 'text_delta' | 'thinking_delta' | 'tool_call' | 'tool_result'
  | 'permission_request' | 'permission_resolved' | 'status' | 'usage' | 'turn_completed' | 'turn_failed'
  | 'turn_cancelled';

export interface SessionEvent {
  type: 'event';
  sessionId: string;
  seq: number;
  turnId: string;
  kind: EventKind | string;
  ts: number;
  data: Record<string, any>;
}

export interface User {
  id: string;
  tenantId: string;
  scopes: string[];
}

export interface Authenticated {
  type: 'authenticated';
  connectionId: string;
  user: User;
  protocolVersion: number;
  serverTime: number;
}

export interface TenantEvent {
  type: 'tenant_event';
  event: 'session_created' | 'session_updated' | 'session_archived' | 'session_deleted' | string;
  session?: Session;
  sessionId?: string;
}

export interface Subscribed {
  type: 'subscribed';
  sessionId: string;
  lastSeq: number;
  status: SessionStatus;
  epoch: string;
}

export interface SubscribeHandlers {
  /** Replay stored events after this seq first (0: the whole history); without it only live events. */
  afterSeq?: number;
  onEvent?(event: SessionEvent): void;
  onSubscribed?(reply: Subscribed): void;
  /** The epoch changed while disconnected: events start again from seq 1, drop what was shown. */
  onReset?(info: { reason: 'epoch_changed'; previousEpoch: string; epoch: string }): void;
  onEpochChange?(info: { previousEpoch: string; epoch: string }): void;
  /** The gateway ended the subscription ('session_deleted', or 'not_found' when resubscribing). */
  onUnsubscribed?(reason: string): void;
}

export interface Subscription {
  readonly sessionId: string;
  /** Seq of the last event handed to onEvent. */
  readonly lastSeq: number | null;
  readonly epoch?: string;
  readonly status?: SessionStatus;
  readonly active: boolean;
  unsubscribe(): Promise<void>;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface ClientOptions {
  /** The ws:// or wss:// address of the gateway's /ws. */
  url: string;
  token?: string;
  /** Called at every (re)connect and before a JWT expires (refreshBeforeExpiryMs). */
  getToken?: () => string | Promise<string>;
  /** A WebSocket constructor where the runtime has none (Node.js 20: the ws package's). */
  WebSocket?: unknown;
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  refreshBeforeExpiryMs?: number;
  /** false: no automatic reconnection. */
  reconnect?: boolean;
}

export interface ClientEvents {
  state: ConnectionState;
  authenticated: Authenticated;
  tenant: TenantEvent;
  error: DiminuendoError;
  warning: Error;
  disconnected: { code: number; reason: string };
}

export declare function tokenExpiry(token: string): number | undefined;

export declare class DiminuendoClient {
  constructor(options: ClientOptions);
  readonly state: ConnectionState;
  readonly user?: User;
  readonly connectionId?: string;
  /** How many times the client connected again after losing the connection. */
  readonly reconnects: number;
  /** Events seen twice (at or below a subscription's lastSeq) and not handed on. */
  readonly duplicatesDropped: number;
  on<K extends keyof ClientEvents>(name: K, fn: (value: ClientEvents[K]) => void): () => void;
  connect(): Promise<Authenticated>;
  close(): void;
  createSession(options?: { title?: string; metadata?: Record<string, unknown> }): Promise<Session>;
  listSessions(options?: { limit?: number; cursor?: string; status?: SessionStatus }):
    Promise<{ items: Session[]; nextCursor: string | null }>;
  getSession(sessionId: string): Promise<Session>;
  updateSession(sessionId: string, changes: { title: string }): Promise<Session>;
  archiveSession(sessionId: string): Promise<Session>;
  deleteSession(sessionId: string): Promise<void>;
  history(sessionId: string, options?: { afterSeq?: number; limit?: number }):
    Promise<{ sessionId: string; events: SessionEvent[]; lastSeq: number }>;
  send(sessionId: string, text: string, options?: { clientMessageId?: string }):
    Promise<{ sessionId: string; turnId: string }>;
  cancel(sessionId: string): Promise<{ sessionId: string; turnId: string }>;
  decide(sessionId: string, requestId: string, decision: 'allow' | 'deny'): Promise<void>;
  ping(): Promise<number>;
  subscribe(sessionId: string, handlers?: SubscribeHandlers): Promise<Subscription>;
}
