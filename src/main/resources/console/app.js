// The web console: a page over diminuendo-client.js. Everything is drawn with textContent (no HTML from the
// gateway or the agent is ever parsed), the token is kept in sessionStorage (localStorage only when the user asks to
// stay signed in) and never put in a URL or logged.
import { DiminuendoClient } from '/diminuendo-client.js';

const TOKEN_KEY = 'diminuendo.token';
const $ = (id) => document.getElementById(id);

const ui = {
  status: $('connection-status'),
  who: $('who'),
  signOut: $('sign-out'),
  signInView: $('sign-in-view'),
  signInForm: $('sign-in-form'),
  token: $('token-input'),
  remember: $('remember'),
  signInError: $('sign-in-error'),
  app: $('app-view'),
  newSession: $('new-session'),
  list: $('session-list'),
  more: $('more-sessions'),
  title: $('session-title'),
  actions: $('session-actions'),
  rename: $('rename'),
  renameForm: $('rename-form'),
  renameInput: $('rename-input'),
  renameCancel: $('rename-cancel'),
  archive: $('archive'),
  remove: $('delete'),
  transcript: $('transcript'),
  turnStatus: $('turn-status'),
  usage: $('usage'),
  composer: $('composer'),
  prompt: $('prompt-input'),
  simLabel: $('sim-label'),
  simMenu: $('sim-menu'),
  send: $('send'),
  cancel: $('cancel'),
  sessionError: $('session-error'),
};

let client = null;
const sessions = new Map(); // id -> session
let nextCursor = null;
let current = null; // { id, sub, turns: Map(turnId -> view), running: turnId|null }

// --- sign in / out ------------------------------------------------------------------------------------------

function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

function setStatus(state) {
  const text = {
    idle: 'signed out',
    connecting: 'connecting…',
    connected: 'connected',
    reconnecting: 'reconnecting…',
    closed: 'signed out',
  }[state] ?? state;
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

async function signIn(token, remember) {
  ui.signInError.textContent = '';
  ui.token.setAttribute('aria-invalid', 'false');
  const c = new DiminuendoClient({ url: wsUrl(), getToken: () => token });
  client = c;
  let reachedOnce = false;
  c.on('state', (s) => {
    if (client === c) {
      setStatus(s);
    }
  });
  c.on('disconnected', (close) => {
    if (client === c && !reachedOnce && close.code !== 4401) {
      ui.signInError.textContent = `Cannot reach the gateway (${close.code}); still trying. `
        + 'If it runs with diminuendo.security.allowed-origins, that list must name this page\'s origin.';
    }
  });
  c.on('authenticated', () => {
    reachedOnce = true;
    ui.signInError.textContent = '';
  });
  c.on('tenant', onTenantEvent);
  c.on('error', (e) => {
    if (client === c && c.state === 'connected') {
      showError(e);
    }
  });
  let listed = false;
  c.on('state', (s) => {
    if (s === 'connected' && client === c && listed) {
      // tenant events sent while we were away are gone: read the list again
      loadSessions(true).catch(showError);
    }
  });
  try {
    const reply = await c.connect();
    (remember ? localStorage : sessionStorage).setItem(TOKEN_KEY, token);
    (remember ? sessionStorage : localStorage).removeItem(TOKEN_KEY);
    ui.who.textContent = `${reply.user.id} · ${reply.user.tenantId}`;
    ui.signInView.hidden = true;
    ui.app.hidden = false;
    ui.signOut.hidden = false;
    await loadSessions(true);
    listed = true;
  } catch (e) {
    if (client === c) {
      client = null;
    }
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
    ui.signInError.textContent = e.code === 'unauthorized'
      ? `Sign-in refused: ${e.message}. Check the key or token.`
      : `Sign-in failed: ${e.message}`;
    ui.token.setAttribute('aria-invalid', 'true');
    ui.token.focus();
    setStatus('closed');
  }
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  client?.close();
  client = null;
  sessions.clear();
  ui.list.replaceChildren();
  closeSession('No session selected');
  ui.app.hidden = true;
  ui.signOut.hidden = true;
  ui.signInView.hidden = false;
  ui.who.textContent = '';
  ui.token.value = '';
  setStatus('closed');
  ui.token.focus();
}

// --- sessions list ------------------------------------------------------------------------------------------

async function loadSessions(reset) {
  const page = await client.listSessions({ limit: 100, cursor: reset ? undefined : nextCursor });
  if (reset) {
    sessions.clear();
    ui.list.replaceChildren();
  }
  for (const s of page.items) {
    upsertSession(s, false);
  }
  nextCursor = page.nextCursor;
  ui.more.hidden = !nextCursor;
  if (current && !sessions.has(current.id)) {
    closeSession('This session was deleted.');
  }
}

function upsertSession(session, first) {
  sessions.set(session.id, session);
  let item = ui.list.querySelector(`[data-session-id="${CSS.escape(session.id)}"]`);
  if (!item) {
    const li = document.createElement('li');
    item = document.createElement('button');
    item.type = 'button';
    item.setAttribute('data-testid', 'session-item');
    item.dataset.sessionId = session.id;
    item.addEventListener('click', () => openSession(session.id));
    const name = document.createElement('span');
    name.className = 'name';
    const state = document.createElement('span');
    state.className = 'state';
    item.append(name, state);
    li.append(item);
    if (first) {
      ui.list.prepend(li);
    } else {
      ui.list.append(li);
    }
  }
  item.querySelector('.name').textContent = session.title || 'Untitled';
  item.querySelector('.state').textContent = session.status;
  item.dataset.status = session.status;
  if (current?.id === session.id) {
    item.setAttribute('aria-current', 'true');
    ui.title.textContent = session.title || 'Untitled';
    ui.archive.disabled = session.status === 'archived';
  }
}

function removeSession(id) {
  sessions.delete(id);
  ui.list.querySelector(`[data-session-id="${CSS.escape(id)}"]`)?.parentElement.remove();
  if (current?.id === id) {
    closeSession('This session was deleted.');
  }
}

function onTenantEvent(frame) {
  if (frame.event === 'session_deleted') {
    removeSession(frame.sessionId);
  } else if (frame.session) {
    upsertSession(frame.session, !sessions.has(frame.session.id));
  }
}

// --- one session --------------------------------------------------------------------------------------------

function closeSession(message) {
  current?.sub?.unsubscribe().catch(() => {});
  current = null;
  ui.title.textContent = message;
  ui.actions.hidden = true;
  ui.renameForm.hidden = true;
  ui.transcript.replaceChildren();
  ui.turnStatus.textContent = '';
  ui.usage.textContent = '';
  ui.prompt.disabled = true;
  ui.send.disabled = true;
  ui.cancel.disabled = true;
  for (const el of ui.list.querySelectorAll('[aria-current]')) {
    el.removeAttribute('aria-current');
  }
}

async function openSession(id) {
  if (current?.id === id) {
    return;
  }
  closeSession('');
  ui.sessionError.textContent = '';
  const view = { id, sub: null, turns: new Map(), running: null };
  current = view;
  upsertSession(sessions.get(id), false);
  ui.actions.hidden = false;
  ui.prompt.disabled = false;
  ui.send.disabled = false;
  try {
    view.sub = await client.subscribe(id, {
      afterSeq: 0,
      onEvent: (e) => current === view && render(view, e),
      onReset: () => {
        if (current === view) {
          view.turns.clear();
          view.running = null;
          ui.transcript.replaceChildren();
          note('The gateway restarted uncleanly; the conversation was read again from the start.');
        }
      },
      onUnsubscribed: () => current === view && removeSession(id),
    });
    if (current !== view) {
      view.sub.unsubscribe().catch(() => {});
    }
  } catch (e) {
    if (current === view) {
      showError(e);
    }
  }
  ui.prompt.focus();
}

function note(text) {
  const li = document.createElement('li');
  li.className = 'note';
  li.textContent = text;
  ui.transcript.append(li);
}

function turnView(view, turnId) {
  let t = view.turns.get(turnId);
  if (!t) {
    const li = document.createElement('li');
    li.className = 'assistant';
    li.dataset.turnId = turnId;
    ui.transcript.append(li);
    t = { el: li, text: null, thinking: null, tools: new Map(), permissions: new Map() };
    view.turns.set(turnId, t);
  }
  return t;
}

function block(t, tag, className, testid) {
  const el = document.createElement(tag);
  el.className = className;
  if (testid) {
    el.setAttribute('data-testid', testid);
  }
  t.el.append(el);
  t.text = null;
  t.thinking = null;
  return el;
}

function pre(text, className) {
  const el = document.createElement('pre');
  el.className = className;
  el.textContent = text;
  return el;
}

function json(value) {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function setTurnStatus(text, state) {
  ui.turnStatus.textContent = text;
  ui.turnStatus.dataset.state = state;
}

function render(view, e) {
  const atBottom = ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 40;
  const d = e.data ?? {};
  switch (e.kind) {
    case 'user_message': {
      const li = document.createElement('li');
      li.className = 'user';
      const who = document.createElement('div');
      who.className = 'author';
      who.textContent = d.userId;
      const p = document.createElement('p');
      p.textContent = d.text;
      li.append(who, p);
      ui.transcript.append(li);
      break;
    }
    case 'turn_started':
      turnView(view, e.turnId);
      view.running = e.turnId;
      ui.usage.textContent = '';
      ui.cancel.disabled = false;
      setTurnStatus('running', 'running');
      break;
    case 'text_delta': {
      const t = turnView(view, e.turnId);
      if (!t.text) {
        t.text = block(t, 'p', 'text', 'assistant-text');
        t.text.append(document.createTextNode(''));
      }
      t.text.firstChild.appendData(d.text);
      break;
    }
    case 'thinking_delta': {
      const t = turnView(view, e.turnId);
      if (!t.thinking) {
        const details = block(t, 'details', 'thinking', 'thinking');
        details.open = true;
        const summary = document.createElement('summary');
        summary.textContent = 'Thinking';
        const p = document.createElement('p');
        p.append(document.createTextNode(''));
        details.append(summary, p);
        t.thinking = p;
      }
      t.thinking.firstChild.appendData(d.text);
      break;
    }
    case 'tool_call': {
      const t = turnView(view, e.turnId);
      const el = block(t, 'div', 'tool', 'tool-call');
      const name = document.createElement('div');
      name.className = 'tool-name';
      name.textContent = `Tool call: ${d.name}`;
      el.append(name, pre(json(d.input), 'tool-input'));
      t.tools.set(d.toolCallId, el);
      break;
    }
    case 'tool_result': {
      const t = turnView(view, e.turnId);
      const el = t.tools.get(d.toolCallId) ?? block(t, 'div', 'tool', 'tool-call');
      const out = pre(json(d.output), d.isError ? 'tool-output failed' : 'tool-output');
      out.setAttribute('data-testid', 'tool-result');
      el.append(out);
      t.text = null;
      break;
    }
    case 'permission_request': {
      const t = turnView(view, e.turnId);
      const el = block(t, 'div', 'permission', 'permission-request');
      const q = document.createElement('div');
      q.textContent = `The agent asks to run ${d.name}:`;
      const allow = document.createElement('button');
      allow.type = 'button';
      allow.textContent = 'Allow';
      allow.setAttribute('data-testid', 'permission-allow');
      const deny = document.createElement('button');
      deny.type = 'button';
      deny.textContent = 'Deny';
      deny.className = 'danger';
      deny.setAttribute('data-testid', 'permission-deny');
      const outcome = document.createElement('div');
      outcome.className = 'outcome';
      const buttons = document.createElement('div');
      buttons.className = 'actions';
      buttons.append(allow, deny);
      el.append(q, pre(json(d.input), 'tool-input'), buttons, outcome);
      const decide = (decision) => {
        allow.disabled = true;
        deny.disabled = true;
        client.decide(view.id, d.requestId, decision).catch((err) => {
          if (err.code !== 'conflict') {
            allow.disabled = false;
            deny.disabled = false;
          }
          showError(err);
        });
      };
      allow.addEventListener('click', () => decide('allow'));
      deny.addEventListener('click', () => decide('deny'));
      t.permissions.set(d.requestId, { allow, deny, outcome });
      break;
    }
    case 'permission_resolved': {
      const p = turnView(view, e.turnId).permissions.get(d.requestId);
      if (p) {
        p.allow.disabled = true;
        p.deny.disabled = true;
        p.outcome.textContent = `${d.decision === 'allow' ? 'Allowed' : 'Denied'} by ${d.userId}`;
      }
      break;
    }
    case 'status': {
      const t = turnView(view, e.turnId);
      const el = block(t, 'div', 'status-line', null);
      el.textContent = d.detail ? `${d.state}: ${d.detail}` : d.state;
      break;
    }
    case 'usage':
      ui.usage.textContent = `${d.inputTokens} tokens in · ${d.outputTokens} out`;
      break;
    case 'turn_completed':
    case 'turn_failed':
    case 'turn_cancelled': {
      const t = turnView(view, e.turnId);
      const text = e.kind === 'turn_completed' ? `completed (${d.stopReason})`
        : e.kind === 'turn_failed' ? `failed: ${d.code}${d.message ? ' (' + d.message + ')' : ''}`
          : `cancelled by ${d.userId}`;
      const end = block(t, 'div', `turn-end ${e.kind}`, null);
      end.textContent = `Turn ${text}`;
      if (view.running === e.turnId) {
        view.running = null;
        ui.cancel.disabled = true;
      }
      setTurnStatus(text, e.kind.replace('turn_', ''));
      break;
    }
    default:
      break;
  }
  if (atBottom) {
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }
}

function showError(e) {
  const text = e?.retryAfterMs ? `${e.message} (try again in ${Math.ceil(e.retryAfterMs / 1000)} s)` : e?.message ?? String(e);
  ui.sessionError.textContent = e?.code ? `${e.code}: ${text}` : text;
}

// --- wiring -------------------------------------------------------------------------------------------------

ui.signInForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = ui.token.value.trim();
  if (token) {
    ui.token.value = '';
    signIn(token, ui.remember.checked);
  }
});

ui.signOut.addEventListener('click', signOut);

ui.newSession.addEventListener('click', async () => {
  ui.sessionError.textContent = '';
  try {
    const session = await client.createSession({ title: `Session ${new Date().toLocaleString()}` });
    upsertSession(session, !sessions.has(session.id));
    await openSession(session.id);
  } catch (e) {
    showError(e);
  }
});

ui.more.addEventListener('click', () => loadSessions(false).catch(showError));

ui.composer.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = ui.prompt.value.trim();
  if (!text || !current) {
    return;
  }
  ui.sessionError.textContent = '';
  ui.send.disabled = true;
  try {
    await client.send(current.id, text);
    ui.prompt.value = '';
  } catch (e) {
    showError(e);
  } finally {
    ui.send.disabled = !current;
  }
});

ui.prompt.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.cancel.addEventListener('click', async () => {
  if (!current) {
    return;
  }
  try {
    await client.cancel(current.id);
  } catch (e) {
    showError(e);
  }
});

ui.simMenu.addEventListener('change', () => {
  if (ui.simMenu.value) {
    ui.prompt.value = ui.simMenu.value;
    ui.simMenu.value = '';
    ui.prompt.focus();
  }
});

ui.rename.addEventListener('click', () => {
  ui.renameForm.hidden = false;
  ui.renameInput.value = sessions.get(current.id)?.title ?? '';
  ui.renameInput.focus();
  ui.renameInput.select();
});

ui.renameCancel.addEventListener('click', () => {
  ui.renameForm.hidden = true;
});

ui.renameForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    upsertSession(await client.updateSession(current.id, { title: ui.renameInput.value.trim() }), false);
    ui.renameForm.hidden = true;
  } catch (e) {
    showError(e);
  }
});

ui.archive.addEventListener('click', async () => {
  try {
    upsertSession(await client.archiveSession(current.id), false);
  } catch (e) {
    showError(e);
  }
});

ui.remove.addEventListener('click', async () => {
  const session = sessions.get(current.id);
  if (!window.confirm(`Delete "${session?.title || 'Untitled'}" and its whole history?`)) {
    return;
  }
  try {
    const id = current.id;
    await client.deleteSession(id);
    removeSession(id);
  } catch (e) {
    showError(e);
  }
});

fetch('/console/settings.json')
  .then((r) => r.json())
  .then((settings) => {
    ui.simMenu.hidden = !settings.simMenu;
    ui.simLabel.hidden = !settings.simMenu;
  })
  .catch(() => {});

const saved = storedToken();
if (saved) {
  signIn(saved, localStorage.getItem(TOKEN_KEY) === saved);
} else {
  ui.token.focus();
}
