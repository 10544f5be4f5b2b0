// diminuendo-client.js in Node.js with the ws package, against a running gateway (ClientLibraryTest,
// ClientLibraryIT). The library is loaded from the gateway itself, as a browser would get it.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { hook, main, until } from './harness.mjs';

const TERMINAL = new Set(['turn_completed', 'turn_failed', 'turn_cancelled']);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function load(base) {
  const res = await fetch(`${base}/diminuendo-client.js`);
  if (!res.ok || !res.headers.get('content-type')?.startsWith('text/javascript')) {
    throw new Error(`GET /diminuendo-client.js answered ${res.status} ${res.headers.get('content-type')}`);
  }
  // a file rather than a data: URL, so that stack traces name it briefly
  const file = join(tmpdir(), `diminuendo-client-${process.pid}.mjs`);
  writeFileSync(file, await res.text());
  return import(pathToFileURL(file).href);
}

function wsUrl(base) {
  return `${base.replace(/^http/, 'ws')}/ws`;
}

function jwt(secret, claims) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** What a subscriber saw: seqs in the order handed over, kinds, the joined text. */
function summary(events) {
  return {
    seqs: events.map((e) => e.seq),
    kinds: events.map((e) => e.kind).filter((k) => k !== 'text_delta'),
    text: events.filter((e) => e.kind === 'text_delta').map((e) => e.data.text).join(''),
    terminal: events.find((e) => TERMINAL.has(e.kind)) ?? null,
  };
}

const scenarios = {
  // the server closes the socket mid-turn: the client reconnects, authenticates and resumes after its last seq
  async resume({ base, key, tokens, delayMs }) {
    const { DiminuendoClient } = await load(base);
    const client = new DiminuendoClient({ url: wsUrl(base), token: key, WebSocket, minReconnectDelayMs: 100 });
    const states = [];
    client.on('state', (s) => states.push(s));
    await client.connect();
    const firstConnection = client.connectionId;
    const session = await client.createSession({ title: 'resume' });
    const events = [];
    const sub = await client.subscribe(session.id, { onEvent: (e) => events.push(e) });
    await client.send(session.id, `/sim tokens=${tokens} delay_ms=${delayMs}`);
    await until('30 text deltas', () => events.filter((e) => e.kind === 'text_delta').length >= 30);
    const seqAtDrop = events.at(-1).seq;
    const seenBefore = states.length;
    const dropped = await hook({ hook: 'drop', user: 'alice' });
    // asked while the client reconnects: waits for the new connection instead of failing (a request already on the
    // closing socket would fail with 'disconnected')
    await until('the client to notice the close', () => states.slice(seenBefore).includes('reconnecting'));
    const pingWhileReconnecting = await client.ping();
    await until('the end of the turn', () => events.some((e) => TERMINAL.has(e.kind)), 60000);
    const result = {
      sessionId: session.id, ...summary(events), seqAtDrop, dropped, pingWhileReconnecting, states,
      reconnects: client.reconnects, duplicatesDropped: client.duplicatesDropped, lastSeq: sub.lastSeq,
      sameConnection: firstConnection === client.connectionId,
    };
    client.close();
    return result;
  },

  // a JWT refreshed before it expires keeps the connection; one that expires is replaced on a new connection
  async reauth({ base, secret, tokens }) {
    const { DiminuendoClient } = await load(base);
    const mint = () => jwt(secret, { sub: 'alice', tid: 'acme', exp: Math.floor(Date.now() / 1000) + 2 });

    let refreshed = 0;
    const keeper = new DiminuendoClient({
      url: wsUrl(base), WebSocket, refreshBeforeExpiryMs: 1000, getToken: () => { refreshed++; return mint(); },
    });
    const keeperStates = [];
    keeper.on('state', (s) => keeperStates.push(s));
    await keeper.connect();
    const keeperConnection = keeper.connectionId;
    // the first token is refused 2 s + the gateway's 5 s leeway after it was made
    await sleep(9000);
    const keeperPing = await keeper.ping();
    const kept = {
      minted: refreshed, reconnects: keeper.reconnects, states: keeperStates,
      sameConnection: keeperConnection === keeper.connectionId, ping: keeperPing,
    };
    keeper.close();

    // no refresh before expiry: the gateway closes 4401 and the client comes back with a fresh token
    let fetched = 0;
    const lapsing = new DiminuendoClient({
      url: wsUrl(base), WebSocket, minReconnectDelayMs: 100, refreshBeforeExpiryMs: -60000,
      getToken: () => { fetched++; return mint(); },
    });
    const closes = [];
    lapsing.on('disconnected', (c) => closes.push(c));
    await lapsing.connect();
    const session = await lapsing.createSession({ title: 'reauth' });
    const events = [];
    await lapsing.subscribe(session.id, { onEvent: (e) => events.push(e) });
    await lapsing.send(session.id, `/sim tokens=${tokens} delay_ms=25`);
    await until('the end of the turn', () => events.some((e) => TERMINAL.has(e.kind)), 60000);
    const lapsed = { fetched, closes, reconnects: lapsing.reconnects, ...summary(events) };
    lapsing.close();
    return { kept, lapsed };
  },

  // a refused token is final: a clear error and no reconnect loop
  async badToken({ base }) {
    const { DiminuendoClient } = await load(base);
    const client = new DiminuendoClient({ url: wsUrl(base), token: 'not-a-key', WebSocket, minReconnectDelayMs: 50 });
    const states = [];
    const errors = [];
    client.on('state', (s) => states.push(s));
    client.on('error', (e) => errors.push(e.code));
    let refusal = null;
    try {
      await client.connect();
    } catch (e) {
      refusal = { code: e.code, message: e.message, name: e.name };
    }
    await sleep(1000);
    let afterClose = null;
    try {
      await client.ping();
    } catch (e) {
      afterClose = e.code;
    }
    return { refusal, states, errors, afterClose };
  },

  // requests and their errors, typed as the gateway answers them
  async requests({ base, key, otherTenantKey }) {
    const { DiminuendoClient, DiminuendoError } = await load(base);
    const client = new DiminuendoClient({ url: wsUrl(base), token: key, WebSocket });
    const tenant = [];
    client.on('tenant', (t) => tenant.push(t.event));
    await client.connect();
    const created = await client.createSession({ title: 'first', metadata: { a: 1 } });
    const renamed = await client.updateSession(created.id, { title: 'renamed' });
    const got = await client.getSession(created.id);
    const listed = await client.listSessions({ limit: 200 });
    const events = [];
    await client.subscribe(created.id, { onEvent: (e) => events.push(e) });
    const accepted = await client.send(created.id, '/sim permission');
    await until('the permission request', () => events.some((e) => e.kind === 'permission_request'));
    const request = events.find((e) => e.kind === 'permission_request').data.requestId;
    await client.decide(created.id, request, 'allow');
    let again = null;
    try {
      await client.decide(created.id, request, 'deny');
    } catch (e) {
      again = { code: e.code, isError: e instanceof DiminuendoError };
    }
    await until('the end of the turn', () => events.some((e) => TERMINAL.has(e.kind)));
    const history = await client.history(created.id, { afterSeq: 0, limit: 1000 });
    const archived = await client.archiveSession(created.id);
    let archivedSend = null;
    try {
      await client.send(created.id, 'hello');
    } catch (e) {
      archivedSend = e.code;
    }

    const other = new DiminuendoClient({ url: wsUrl(base), token: otherTenantKey, WebSocket });
    await other.connect();
    let foreign = null;
    try {
      await other.getSession(created.id);
    } catch (e) {
      foreign = e.code;
    }
    other.close();

    let deletedNotice = null;
    await client.subscribe(created.id, { onUnsubscribed: (reason) => { deletedNotice = reason; } });
    await client.deleteSession(created.id);
    await until('the unsubscribed notice', () => deletedNotice !== null);
    await until('the tenant event of the delete', () => tenant.includes('session_deleted'));
    const result = {
      created, renamed: renamed.title, got: got.title, listed: listed.items.map((s) => s.id), accepted,
      again, kinds: summary(events).kinds, historySeqs: history.events.map((e) => e.seq), historyLastSeq: history.lastSeq,
      archived: archived.status, archivedSend, foreign, deletedNotice, tenant,
    };
    client.close();
    return result;
  },

  // the gateway is killed and restarted on the same store: the epoch changes and the client reads from the start
  async epoch({ base, key, tokens }) {
    const { DiminuendoClient } = await load(base);
    const client = new DiminuendoClient({
      url: wsUrl(base), token: key, WebSocket, minReconnectDelayMs: 100, maxReconnectDelayMs: 1000,
    });
    await client.connect();
    const session = await client.createSession({ title: 'epoch' });
    let events = [];
    const resets = [];
    let subscribedAfterReset = false;
    const sub = await client.subscribe(session.id, {
      afterSeq: 0,
      onEvent: (e) => events.push(e),
      onReset: (info) => {
        resets.push({ ...info, eventsBefore: events.length });
        events = [];
      },
      // the replayed events come before the subscribed reply that ends the replay (and carries the epoch)
      onSubscribed: () => {
        subscribedAfterReset = resets.length > 0;
      },
    });
    const epochBefore = sub.epoch;
    await client.send(session.id, `/sim tokens=${tokens} delay_ms=5`);
    await until('50 text deltas', () => events.filter((e) => e.kind === 'text_delta').length >= 50);
    await hook({ hook: 'restart' });
    await until('the reset, the end of the turn and the subscribed after them',
      () => subscribedAfterReset && events.some((e) => TERMINAL.has(e.kind)), 120000);
    const result = { sessionId: session.id, epochBefore, epochAfter: sub.epoch, resets, ...summary(events), reconnects: client.reconnects };
    client.close();
    return result;
  },
};

await main(scenarios);
