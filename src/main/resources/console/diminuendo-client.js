// diminuendo-client.js: a client for the Diminuendo gateway's WebSocket protocol (docs/client.md).
// One ES module without dependencies, for browsers (served by the gateway at /diminuendo-client.js) and Node.js 20+
// (pass the `ws` package's WebSocket as the `WebSocket` option where the runtime has none).
//
// It keeps one socket open, authenticates with a first frame (never in the URL), answers each request with a promise,
// and when the socket drops it reconnects with backoff and jitter, authenticates again and resubscribes every session
// from the last seq it delivered, so the caller sees each event exactly once and in order.

export const PROTOCOL_VERSION = 1;

/** An error the gateway answered (its `code`, `message` and, for waits, `retryAfterMs`), or one of the client's own. */
export class DiminuendoError extends Error {
  constructor(code, message, retryAfterMs) {
    super(message);
    this.name = 'DiminuendoError';
    this.code = code;
    if (retryAfterMs !== undefined) {
      this.retryAfterMs = retryAfterMs;
    }
  }
}

const DEFAULTS = {
  requestTimeoutMs: 30000,
  connectTimeoutMs: 10000,
  minReconnectDelayMs: 250,
  maxReconnectDelayMs: 10000,
  refreshBeforeExpiryMs: 30000,
};

// the state of a client that was closed, or gave up because its token was refused: it does not reconnect
const TERMINAL = 'closed';

/** The `exp` claim of a JWT in milliseconds, or undefined for an API key or a token without one. Not verified. */
export function tokenExpiry(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) {
    return undefined;
  }
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = typeof atob === 'function' ? atob(b64) : Buffer.from(b64, 'base64').toString('binary');
    const exp = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One subscription to a session's stream. `lastSeq` is the seq of the last event handed to `onEvent`; after a
 * reconnect the client resubscribes from it.
 */
class Subscription {
  constructor(client, sessionId, handlers) {
    this.client = client;
    this.sessionId = sessionId;
    this.handlers = handlers;
    this.lastSeq = handlers.afterSeq ?? null;
    this.epoch = undefined;
    this.status = undefined;
    this.active = true;
    this.confirmed = false;
    this.repairing = false;
  }

  /** Stops the stream: asks the gateway when connected; no more events reach the handlers either way. */
  async unsubscribe() {
    if (!this.active) {
      return;
    }
    this.active = false;
    this.client._subscriptions.delete(this.sessionId);
    if (this.client.state === 'connected') {
      await this.client._request({ type: 'unsubscribe', sessionId: this.sessionId });
    }
  }

  _event(frame) {
    if (!this.active) {
      return;
    }
    if (this.lastSeq !== null && frame.seq <= this.lastSeq) {
      this.client.duplicatesDropped++;
      return;
    }
    if (this.lastSeq !== null && frame.seq !== this.lastSeq + 1) {
      // never expected from the gateway; read the missing part again rather than show a hole
      if (!this.repairing) {
        this.repairing = true;
        this.client._emit('warning', new DiminuendoError('gap', `session ${this.sessionId}: seq ${frame.seq} after ${this.lastSeq}`));
        this.client._resubscribe(this);
      }
      return;
    }
    this.lastSeq = frame.seq;
    this.handlers.onEvent?.(frame);
  }
}

/**
 * A connection to the gateway that reconnects by itself.
 *
 * Options: `url` (ws:// or wss:// address of /ws), `token` or `getToken()` (sync or async, called at every
 * (re)connect and before the token expires), `WebSocket` (constructor, default the global one), `requestTimeoutMs`,
 * `connectTimeoutMs`, `minReconnectDelayMs`, `maxReconnectDelayMs`, `refreshBeforeExpiryMs`, `reconnect` (false
 * turns automatic reconnection off).
 *
 * Events (`on(name, fn)`): `state` (connecting, connected, reconnecting, closed), `authenticated` (the reply),
 * `tenant` (a tenant_event frame), `error` (a DiminuendoError that is no request's answer; with state closed it
 * is why the client gave up), `warning`, `disconnected` ({code, reason}).
 */
export class DiminuendoClient {
  constructor(options = {}) {
    if (!options.url) {
      throw new TypeError('url is required (the ws:// or wss:// address of the gateway\'s /ws)');
    }
    if (!options.token && typeof options.getToken !== 'function') {
      throw new TypeError('token or getToken is required');
    }
    this.options = { ...DEFAULTS, ...options };
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocketImpl !== 'function') {
      throw new TypeError('no WebSocket in this runtime: pass one as the WebSocket option (e.g. from the ws package)');
    }
    this.state = 'idle';
    this.user = undefined;
    this.connectionId = undefined;
    this.reconnects = 0;
    this.duplicatesDropped = 0;
    this._listeners = new Map();
    this._subscriptions = new Map();
    this._pending = new Map();
    this._queued = [];
    this._nextId = 1;
    this._socket = null;
    this._attempt = 0;
    this._timers = new Set();
    this._refreshTimer = null;
    this._connected = null;
  }

  on(name, fn) {
    if (!this._listeners.has(name)) {
      this._listeners.set(name, new Set());
    }
    this._listeners.get(name).add(fn);
    return () => this._listeners.get(name)?.delete(fn);
  }

  _emit(name, value) {
    for (const fn of this._listeners.get(name) ?? []) {
      try {
        fn(value);
      } catch (e) {
        if (name !== 'warning') {
          this._emit('warning', e);
        }
      }
    }
  }

  _setState(state) {
    if (this.state !== state) {
      this.state = state;
      this._emit('state', state);
    }
  }

  /**
   * Opens the connection and authenticates. Resolves with the `authenticated` reply; rejects with the gateway's
   * error when the token is refused (the client then stays closed).
   */
  connect() {
    if (this.state === 'connected') {
      return Promise.resolve(this._authenticated);
    }
    if (!this._connected) {
      this._connected = new Deferred();
      if (this.state === 'idle' || this.state === TERMINAL) {
        this._closedByUser = false;
        this._open();
      }
      // otherwise a (re)connection is under way: this resolves when it succeeds
    }
    return this._connected.promise;
  }

  /** Closes the connection for good; pending requests fail with `closed`. */
  close() {
    this._closedByUser = true;
    this._clearTimers();
    this._failPending(new DiminuendoError('closed', 'the client was closed'));
    this._subscriptions.clear();
    if (this._socket) {
      this._socket.close(1000, 'client closed');
    }
    this._socket = null;
    this._connected?.reject(new DiminuendoError('closed', 'the client was closed'));
    this._connected = null;
    this._setState(TERMINAL);
  }

  async _token() {
    const token = this.options.getToken ? await this.options.getToken() : this.options.token;
    if (!token) {
      throw new DiminuendoError('unauthorized', 'no token to authenticate with');
    }
    return token;
  }

  _open() {
    this._setState(this._everConnected ? 'reconnecting' : 'connecting');
    let socket;
    try {
      socket = new this.WebSocketImpl(this.options.url);
    } catch (e) {
      this._scheduleReconnect({ code: 1006, reason: String(e?.message ?? e) });
      return;
    }
    this._socket = socket;
    let opened = false;
    const openTimer = this._timer(() => {
      if (!opened && this._socket === socket) {
        socket.close();
      }
    }, this.options.connectTimeoutMs);
    socket.onopen = async () => {
      opened = true;
      this._clearTimer(openTimer);
      try {
        const token = await this._token();
        if (this._socket !== socket) {
          return;
        }
        this._authenticating = true;
        const reply = await this._request({ type: 'authenticate', token }, socket);
        this._authenticating = false;
        this._onAuthenticated(reply, token);
      } catch (e) {
        this._authenticating = false;
        if (this._socket !== socket) {
          return;
        }
        if (e instanceof DiminuendoError && (e.code === 'unauthorized' || e.code === 'forbidden')) {
          this._giveUp(e);
        } else {
          socket.close();
        }
      }
    };
    socket.onmessage = (message) => {
      if (this._socket === socket) {
        this._frame(message.data);
      }
    };
    socket.onclose = (event) => {
      if (this._socket === socket) {
        this._socket = null;
        this._onClose({ code: event.code, reason: event.reason });
      }
    };
    socket.onerror = () => {
      // onclose follows and decides
    };
  }

  _onAuthenticated(reply, token) {
    this._authenticated = reply;
    this.user = reply.user;
    this.connectionId = reply.connectionId;
    this._attempt = 0;
    const wasConnected = this._everConnected;
    this._everConnected = true;
    this._scheduleRefresh(token);
    this._setState('connected');
    this._emit('authenticated', reply);
    for (const sub of this._subscriptions.values()) {
      if (sub.confirmed) {
        this._resubscribe(sub);
      }
    }
    const queued = this._queued;
    this._queued = [];
    for (const q of queued) {
      this._sendPending(q);
    }
    if (wasConnected) {
      this.reconnects++;
    }
    this._connected?.resolve(reply);
    this._connected = null;
  }

  _scheduleRefresh(token) {
    this._clearTimer(this._refreshTimer);
    const exp = tokenExpiry(token);
    if (exp === undefined || !this.options.getToken) {
      return;
    }
    const delay = Math.max(1000, exp - Date.now() - this.options.refreshBeforeExpiryMs);
    this._refreshTimer = this._timer(() => this._refresh(), delay);
  }

  async _refresh() {
    try {
      const token = await this._token();
      const reply = await this._request({ type: 'authenticate', token });
      this._authenticated = reply;
      this.user = reply.user;
      this._emit('authenticated', reply);
      this._scheduleRefresh(token);
    } catch (e) {
      this._emit('error', e instanceof DiminuendoError ? e : new DiminuendoError('unauthorized', String(e?.message ?? e)));
    }
  }

  _giveUp(error) {
    this._closedByUser = true;
    this._clearTimers();
    this._failPending(error);
    if (this._socket) {
      this._socket.close(1000, 'giving up');
      this._socket = null;
    }
    this._emit('error', error);
    this._setState(TERMINAL);
    this._connected?.reject(error);
    this._connected = null;
  }

  _onClose(close) {
    this._clearTimer(this._refreshTimer);
    this._failPending(new DiminuendoError('disconnected', `the connection closed (${close.code}${close.reason ? ': ' + close.reason : ''}) before the reply arrived`), true);
    this._emit('disconnected', close);
    if (this._closedByUser) {
      return;
    }
    if (close.code === 4401 && !this._everConnected) {
      this._giveUp(new DiminuendoError('unauthorized', close.reason || 'the token was refused'));
      return;
    }
    if (this.options.reconnect === false) {
      this._giveUp(new DiminuendoError('disconnected', `the connection closed (${close.code})`));
      return;
    }
    this._scheduleReconnect(close);
  }

  _scheduleReconnect(close) {
    this._setState(this._everConnected ? 'reconnecting' : 'connecting');
    const base = Math.min(this.options.maxReconnectDelayMs, this.options.minReconnectDelayMs * 2 ** this._attempt);
    // a gateway that refused us for load (4429) gets at least a second
    const floor = close.code === 4429 ? 1000 : 0;
    // equal jitter (half the delay fixed, half random): many clients of a restarted pod do not come back in step
    const delay = Math.max(floor, Math.round(base / 2 + Math.random() * base / 2));
    this._attempt++;
    this._timer(() => {
      if (!this._closedByUser) {
        this._open();
      }
    }, delay);
  }

  _frame(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      this._emit('warning', new DiminuendoError('bad_frame', 'the gateway sent a frame that is not JSON'));
      return;
    }
    switch (frame.type) {
      case 'event': {
        this._subscriptions.get(frame.sessionId)?._event(frame);
        return;
      }
      case 'tenant_event':
        this._emit('tenant', frame);
        return;
      case 'unsubscribed': {
        const sub = this._subscriptions.get(frame.sessionId);
        if (frame.reason && sub) {
          sub.active = false;
          this._subscriptions.delete(frame.sessionId);
          sub.handlers.onUnsubscribed?.(frame.reason);
        }
        break;
      }
      default:
        break;
    }
    if (frame.id !== undefined && this._pending.has(frame.id)) {
      const pending = this._pending.get(frame.id);
      this._pending.delete(frame.id);
      this._clearTimer(pending.timer);
      if (frame.type === 'error') {
        pending.reject(new DiminuendoError(frame.code, frame.message, frame.retryAfterMs));
      } else {
        pending.resolve(frame);
      }
    } else if (frame.type === 'error') {
      this._emit('error', new DiminuendoError(frame.code, frame.message, frame.retryAfterMs));
    }
  }

  /**
   * Sends one request and resolves with the reply frame. While the client is reconnecting the request waits for
   * the connection (up to `requestTimeoutMs`); a request in flight when the socket drops fails with `disconnected`
   * and is not sent again (it may or may not have been carried out).
   */
  _request(body, socket) {
    const id = this._nextId++;
    const d = new Deferred();
    const pending = { id, frame: JSON.stringify({ ...body, id }), resolve: d.resolve, reject: d.reject, socket };
    pending.timer = this._timer(() => {
      this._pending.delete(id);
      this._queued = this._queued.filter((q) => q !== pending);
      d.reject(new DiminuendoError('timeout', `no reply to ${body.type} within ${this.options.requestTimeoutMs} ms`));
    }, this.options.requestTimeoutMs);
    if (socket) {
      this._pending.set(id, pending);
      socket.send(pending.frame);
    } else if (this.state === 'connected' && this._socket) {
      this._sendPending(pending);
    } else if (this.state === TERMINAL || this.state === 'idle') {
      this._clearTimer(pending.timer);
      d.reject(new DiminuendoError('closed', 'not connected: call connect() first'));
    } else {
      this._queued.push(pending);
    }
    return d.promise;
  }

  _sendPending(pending) {
    this._pending.set(pending.id, pending);
    pending.socket = this._socket;
    this._socket.send(pending.frame);
  }

  _failPending(error, onlySent) {
    for (const [id, p] of this._pending) {
      this._pending.delete(id);
      this._clearTimer(p.timer);
      p.reject(error);
    }
    if (!onlySent) {
      for (const p of this._queued) {
        this._clearTimer(p.timer);
        p.reject(error);
      }
      this._queued = [];
    }
  }

  async _resubscribe(sub) {
    if (this.state !== 'connected' || !sub.active) {
      return;
    }
    try {
      if (sub.epoch !== undefined) {
        const { session } = await this._request({ type: 'get_session', sessionId: sub.sessionId });
        if (session.epoch !== sub.epoch) {
          // seqs after an unclean stop may have been reused: start over from the beginning
          const previous = sub.epoch;
          sub.lastSeq = 0;
          sub.handlers.onReset?.({ reason: 'epoch_changed', previousEpoch: previous, epoch: session.epoch });
        }
      }
      const reply = await this._request({ type: 'subscribe', sessionId: sub.sessionId, afterSeq: sub.lastSeq ?? 0 });
      if (reply.type === 'unsubscribed') {
        throw new DiminuendoError('not_found', `session ${sub.sessionId} was deleted`);
      }
      this._subscribed(sub, reply);
    } catch (e) {
      sub.repairing = false;
      if (e.code === 'not_found' && sub.active) {
        sub.active = false;
        this._subscriptions.delete(sub.sessionId);
        sub.handlers.onUnsubscribed?.('not_found');
      } else if (e.code !== 'disconnected' && e.code !== 'closed') {
        this._emit('error', e);
      }
    }
  }

  _subscribed(sub, reply) {
    if (sub.lastSeq === null) {
      sub.lastSeq = reply.lastSeq;
    }
    if (sub.epoch !== undefined && reply.epoch !== sub.epoch) {
      sub.handlers.onEpochChange?.({ previousEpoch: sub.epoch, epoch: reply.epoch });
    }
    sub.epoch = reply.epoch;
    sub.status = reply.status;
    sub.confirmed = true;
    sub.repairing = false;
    sub.handlers.onSubscribed?.(reply);
    return reply;
  }

  // --- requests -----------------------------------------------------------------------------------------------

  async createSession({ title, metadata } = {}) {
    return (await this._request(strip({ type: 'create_session', title, metadata }))).session;
  }

  async listSessions({ limit, cursor, status } = {}) {
    const reply = await this._request(strip({ type: 'list_sessions', limit, cursor, status }));
    return { items: reply.items, nextCursor: reply.nextCursor };
  }

  async getSession(sessionId) {
    return (await this._request({ type: 'get_session', sessionId })).session;
  }

  async updateSession(sessionId, { title }) {
    return (await this._request({ type: 'update_session', sessionId, title })).session;
  }

  async archiveSession(sessionId) {
    return (await this._request({ type: 'archive_session', sessionId })).session;
  }

  async deleteSession(sessionId) {
    await this._request({ type: 'delete_session', sessionId });
  }

  /** One page of stored events: `{sessionId, events, lastSeq}`. */
  async history(sessionId, { afterSeq, limit } = {}) {
    return this._request(strip({ type: 'history', sessionId, afterSeq, limit }));
  }

  /** Starts a turn; resolves with `{sessionId, turnId}` once the prompt is stored. */
  async send(sessionId, text, { clientMessageId } = {}) {
    const reply = await this._request(strip({ type: 'send_message', sessionId, text, clientMessageId }));
    return { sessionId: reply.sessionId, turnId: reply.turnId };
  }

  async cancel(sessionId) {
    const reply = await this._request({ type: 'cancel_turn', sessionId });
    return { sessionId: reply.sessionId, turnId: reply.turnId };
  }

  /** Answers a permission request with 'allow' or 'deny'. */
  async decide(sessionId, requestId, decision) {
    await this._request({ type: 'permission_decision', sessionId, requestId, decision });
  }

  async ping() {
    return (await this._request({ type: 'ping' })).serverTime;
  }

  /**
   * Follows a session's stream. Handlers: `onEvent(frame)` for each event, once and in seq order, across
   * reconnects; `onSubscribed(reply)`; `onReset({reason, previousEpoch, epoch})` when the session's epoch changed
   * while disconnected (the events start again from seq 1: drop what was shown); `onEpochChange` if a live
   * subscription learns of a new epoch; `onUnsubscribed(reason)` when the gateway ends it (session deleted).
   * `afterSeq` replays stored events after that seq first (0: the whole history). Resolves with the
   * Subscription (`lastSeq`, `epoch`, `status`, `unsubscribe()`).
   */
  async subscribe(sessionId, handlers = {}) {
    const previous = this._subscriptions.get(sessionId);
    if (previous) {
      previous.active = false;
    }
    const sub = new Subscription(this, sessionId, handlers);
    this._subscriptions.set(sessionId, sub);
    for (;;) {
      try {
        // lastSeq moves on with each replayed event, so a request cut off by a reconnect goes on from there
        const reply = await this._request(strip({ type: 'subscribe', sessionId, afterSeq: sub.lastSeq }));
        if (reply.type === 'unsubscribed') {
          throw new DiminuendoError('not_found', `session ${sessionId} was deleted`);
        }
        this._subscribed(sub, reply);
        return sub;
      } catch (e) {
        if (e.code === 'disconnected' && sub.active && this.state !== TERMINAL) {
          continue; // asked again once the client has reconnected
        }
        if (this._subscriptions.get(sessionId) === sub) {
          this._subscriptions.delete(sessionId);
        }
        sub.active = false;
        throw e;
      }
    }
  }

  // --- timers -------------------------------------------------------------------------------------------------

  _timer(fn, ms) {
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
    return t;
  }

  _clearTimer(t) {
    if (t) {
      clearTimeout(t);
      this._timers.delete(t);
    }
  }

  _clearTimers() {
    for (const t of this._timers) {
      clearTimeout(t);
    }
    this._timers.clear();
    this._refreshTimer = null;
  }
}

class Deferred {
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

function strip(body) {
  const out = {};
  for (const [k, v] of Object.entries(body)) {
    if (v !== undefined && v !== null) {
      out[k] = v;
    }
  }
  return out;
}
