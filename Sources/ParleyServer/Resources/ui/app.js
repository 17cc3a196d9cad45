// Parley's chat UI. Talks only to /api (docs/app-api.md). No HTML is ever built from server or model text:
// everything goes through createElement/textContent (Markdown through markdown.js's DOM builder).

import { Api, ApiError } from '/ui/api.js';
import { renderMarkdown } from '/ui/markdown.js';
import { buildTree, visiblePath, siblingInfo, switchBranch } from '/ui/tree.js';

const $ = (id) => document.getElementById(id);
const DEFAULT_TEMPERATURE = 0.7;
const THEME_KEY = 'parley-theme';

const api = new Api({ onUnauthorized: () => sessionEnded() });

const S = {
  user: null,
  auth: true,
  signupEnabled: false,
  authMode: 'signin',
  models: [],
  defaultModel: null,
  conversations: [],
  search: '',
  conv: null, // the open Conversation, null for a new chat
  messages: [], // every message of the open conversation
  tree: buildTree([]),
  leafId: null,
  feedback: new Map(), // message id → Feedback
  pending: { model: null, system_prompt: null, temperature: null }, // settings for a chat not created yet
  streaming: null, // {controller, convId, assistantId, stopRequested}
  notes: new Map(), // message id → 'stopped' | 'error: …' (what this page saw happen to an incomplete reply)
  wellbeing: new Map(), // assistant message id → the stream's `wellbeing` event (crisis_support), for the resource card
  memory: new Map(), // assistant message id → the stream's `memory` event (memories and earlier chats used)
  temporary: false, // the next new chat is temporary (neither reads nor writes memory)
  projects: [], // the user's projects
  pendingProject: null, // the project the next new chat joins
  openProject: null, // the project shown in the project dialog
  editing: null, // id of the user message being edited
  stick: true, // the view follows the stream unless the user scrolled up
  pollTimer: null,
};

// ------------------------------------------------------------------ DOM helpers

function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return node;
}

function show(node, visible) { node.hidden = !visible; }

function errorText(err) {
  if (err instanceof ApiError) return err.message;
  if (err && err.name === 'AbortError') return 'Cancelled';
  return (err && err.message) || String(err);
}

function toast(message, kind = 'error') {
  const box = $('toasts');
  const close = el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, icon('close'));
  const node = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast', 'data-kind': kind },
    el('span', { class: 'toast-text' }, message), close);
  const remove = () => node.remove();
  close.addEventListener('click', remove);
  // A modal dialog sits in the top layer, above everything else: toasts must live inside it to be seen.
  const host = document.querySelector('dialog[open]') || document.body;
  if (box.parentNode !== host) host.append(box);
  box.append(node);
  setTimeout(remove, kind === 'error' ? 10000 : 4000);
  while (box.children.length > 4) box.firstElementChild.remove();
}

function reportError(err, context) {
  if (err && err.name === 'AbortError') return;
  console.error(context || 'error', err);
  if (err instanceof ApiError && err.status === 401 && !S.user) return; // the sign-in screen says it
  toast(context ? `${context}: ${errorText(err)}` : errorText(err));
}

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
  } catch { /* fall back below */ }
  const area = el('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  area.remove();
  return ok;
}

async function copyWithFeedback(button, text) {
  const ok = await copyText(text);
  button.dataset.copied = ok ? 'true' : 'false';
  if (button.classList.contains('icon-btn')) {
    const old = [...button.childNodes];
    if (ok) button.replaceChildren(icon('check'));
    setTimeout(() => { button.replaceChildren(...old); delete button.dataset.copied; }, 1500);
  } else {
    const old = button.textContent;
    button.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { button.textContent = old; delete button.dataset.copied; }, 1500);
  }
  if (!ok) toast('Could not copy to the clipboard');
}

// ------------------------------------------------------------------ Icons (inline SVG: no font or emoji needed)

const ICONS = {
  plus: 'M12 5v14M5 12h14',
  trash: 'M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v6M14 11v6',
  copy: 'M9 9h11v11H9zM5 15H4V4h11v1',
  check: 'M20 6L9 17l-5-5',
  thumbUp: 'M7 10v11H3V10h4zM7 10l4-8c1.5 0 3 1 2.6 3L13 9h6.2a2 2 0 0 1 2 2.4l-1.5 7.8A2 2 0 0 1 17.7 21H7',
  thumbDown: 'M17 14V3h4v11h-4zM17 14l-4 8c-1.5 0-3-1-2.6-3L11 15H4.8a2 2 0 0 1-2-2.4l1.5-7.8A2 2 0 0 1 6.3 3H17',
  refresh: 'M20 12a8 8 0 1 1-2.3-5.7L20 8.6M20 3v5.6h-5.6',
  edit: 'M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z',
  left: 'M15 18l-6-6 6-6',
  right: 'M9 18l6-6-6-6',
  menu: 'M4 6h16M4 12h16M4 18h16',
  close: 'M18 6L6 18M6 6l12 12',
  sliders: 'M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6',
  up: 'M12 19V5M5 12l7-7 7 7',
  down: 'M12 5v14M19 12l-7 7-7-7',
  stop: 'M7 7h10v10H7z',
  sun: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4',
  moon: 'M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z',
  gear: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
};

const SVG_NS = 'http://www.w3.org/2000/svg';

function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}`);
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

// Static buttons name their icon in data-icon; it goes before any text they have.
for (const node of document.querySelectorAll('[data-icon]')) node.prepend(icon(node.dataset.icon));

// ------------------------------------------------------------------ Dialogs

function openDialog(dialog) {
  if (!dialog.open) dialog.showModal();
}

for (const dialog of document.querySelectorAll('dialog')) {
  dialog.addEventListener('close', () => { if ($('toasts').parentNode === dialog) document.body.append($('toasts')); });
  dialog.addEventListener('click', (e) => {
    if (e.target.closest('[data-close]')) dialog.close('cancel');
    else if (e.target === dialog) { // the dialog box itself (its padding) or the backdrop around it
      const r = dialog.getBoundingClientRect();
      const outside = e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom;
      if (outside && e.detail > 0) dialog.close('cancel'); // a real pointer click on the backdrop
    }
  });
}

/** A confirm (or, with `input`, a prompt) dialog; resolves to true / the text, or null when cancelled. */
function ask({ title, text = '', ok = 'OK', danger = false, input = null, value = '' }) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  show($('confirm-text'), !!text);
  $('confirm-ok').textContent = ok;
  $('confirm-ok').classList.toggle('danger', danger);
  show($('confirm-field'), input !== null);
  $('confirm-label').textContent = input || '';
  $('confirm-input').value = value;
  return new Promise((resolve) => {
    const onClose = () => {
      dialog.removeEventListener('close', onClose);
      if (dialog.returnValue !== 'ok') resolve(null);
      else resolve(input !== null ? $('confirm-input').value : true);
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose);
    openDialog(dialog);
    if (input !== null) { $('confirm-input').focus(); $('confirm-input').select(); } else $('confirm-ok').focus();
  });
}

// ------------------------------------------------------------------ Theme

function themeSetting() {
  const v = localStorage.getItem(THEME_KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

function effectiveTheme() {
  const t = themeSetting();
  if (t !== 'system') return t;
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function applyTheme() {
  const t = themeSetting();
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  const next = effectiveTheme() === 'dark' ? 'light' : 'dark';
  const btn = $('theme-toggle');
  btn.replaceChildren(icon(next === 'dark' ? 'moon' : 'sun'), next === 'dark' ? 'Dark' : 'Light');
  btn.setAttribute('aria-label', `Switch to the ${next} theme`);
  document.documentElement.dataset.effectiveTheme = effectiveTheme();
  $('theme-select').value = t;
}

function setTheme(value) {
  if (value === 'system') localStorage.removeItem(THEME_KEY);
  else localStorage.setItem(THEME_KEY, value);
  applyTheme();
}

window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
$('theme-toggle').addEventListener('click', () => setTheme(effectiveTheme() === 'dark' ? 'light' : 'dark'));
$('theme-select').addEventListener('change', (e) => setTheme(e.target.value));

// ------------------------------------------------------------------ Sign in / sign up

function setAuthMode(mode) {
  S.authMode = mode;
  const signup = mode === 'signup';
  $('tab-signin').setAttribute('aria-selected', String(!signup));
  $('tab-signup').setAttribute('aria-selected', String(signup));
  show($('name-field'), signup && S.signupEnabled);
  show($('auth-hint'), signup && S.signupEnabled);
  show($('signup-closed'), signup && !S.signupEnabled);
  $('auth-password').autocomplete = signup ? 'new-password' : 'current-password';
  $('auth-submit').textContent = signup ? 'Create account' : 'Sign in';
  $('auth-submit').disabled = signup && !S.signupEnabled;
  show($('auth-error'), false);
}

function showAuth(message) {
  $('toasts').replaceChildren();
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  show($('boot'), false);
  show($('app'), false);
  show($('auth'), true);
  setAuthMode(S.authMode);
  if (message) { $('auth-error').textContent = message; show($('auth-error'), true); }
  $('auth-email').focus();
}

$('tab-signin').addEventListener('click', () => setAuthMode('signin'));
$('tab-signup').addEventListener('click', () => setAuthMode('signup'));

$('auth-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const signup = S.authMode === 'signup';
  const email = $('auth-email').value.trim();
  const password = $('auth-password').value;
  const fail = (msg) => { $('auth-error').textContent = msg; show($('auth-error'), true); };
  if (!email || !email.includes('@')) return fail('Enter your email address.');
  if (signup && password.length < 8) return fail('The password needs at least 8 characters.');
  if (!password) return fail('Enter your password.');
  const button = $('auth-submit');
  button.disabled = true;
  show($('auth-error'), false);
  try {
    const body = signup ? { email, password, display_name: $('auth-name').value.trim() || email.split('@')[0] } : { email, password };
    const r = await api.post(signup ? '/api/auth/signup' : '/api/auth/signin', body);
    api.csrf = r.csrf_token;
    S.user = r.user;
    $('auth-password').value = '';
    await enterApp();
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) fail('An account with this email already exists. Sign in instead.');
    else if (err instanceof ApiError && err.status === 401) fail('Wrong email or password.');
    else if (err instanceof ApiError && err.code === 'signup_closed') { S.signupEnabled = false; setAuthMode('signup'); }
    else fail(errorText(err));
  } finally {
    button.disabled = S.authMode === 'signup' && !S.signupEnabled;
  }
});

function sessionEnded() {
  if (!S.user) return;
  stopPolling();
  S.user = null;
  api.csrf = null;
  resetChat();
  showAuth('Your session has ended. Sign in again.');
}

$('sign-out').addEventListener('click', async () => {
  try {
    if (S.streaming) await stopGenerating();
    await api.post('/api/auth/signout');
  } catch (err) {
    return reportError(err, 'Sign-out failed');
  }
  S.user = null;
  api.csrf = null;
  resetChat();
  history.replaceState(null, '', '/');
  try {
    const s = await api.get('/api/session');
    S.signupEnabled = !!s.signup_enabled;
  } catch { /* keep what we knew */ }
  S.authMode = 'signin';
  showAuth();
});

// ------------------------------------------------------------------ Boot

async function boot() {
  applyTheme();
  let s;
  try {
    s = await api.get('/api/session');
  } catch (err) {
    $('boot').textContent = `Cannot load the session: ${errorText(err)}`;
    $('boot').classList.add('error');
    return;
  }
  S.auth = s.auth !== false;
  S.signupEnabled = !!s.signup_enabled;
  api.csrf = s.csrf_token || null;
  if (s.user) { S.user = s.user; await enterApp(); return; }
  if (!S.auth) { S.user = { id: 'local', email: '', display_name: 'Local user', is_admin: true }; await enterApp(); return; }
  S.authMode = S.signupEnabled ? 'signup' : 'signin';
  showAuth();
}

async function enterApp() {
  show($('boot'), false);
  show($('auth'), false);
  show($('app'), true);
  const u = S.user;
  $('user-name').textContent = u.display_name || u.email || 'You';
  $('user-email').textContent = S.auth ? u.email : 'no-auth mode';
  $('user-avatar').textContent = (u.display_name || u.email || '?').trim().charAt(0).toUpperCase();
  show($('sign-out'), S.auth);
  $('settings-dialog').querySelector('[data-tab="admin"]').hidden = !u.is_admin || !S.auth;
  $('account-line').textContent = S.auth ? `${u.display_name} · ${u.email}${u.is_admin ? ' · administrator' : ''}` : 'Local user (no-auth mode)';
  window.dispatchEvent(new CustomEvent('parley:signed-in', { detail: { user: u, auth: S.auth, api } })); // wellbeing.js
  await Promise.all([loadModels(), loadConversations(), loadProjects()]);
  await routeFromHash();
  $('composer-input').focus();
}

async function loadModels() {
  try {
    const r = await api.get('/api/models');
    S.models = r.models || [];
    S.defaultModel = r.default || (S.models[0] && S.models[0].id) || null;
  } catch (err) {
    reportError(err, 'Could not load the models');
  }
  renderModelSelect();
}

function renderModelSelect() {
  const select = $('model-select');
  const current = (S.conv ? S.conv.model : S.pending.model) || S.defaultModel;
  const ids = S.models.map((m) => m.id);
  const options = S.models.map((m) => el('option', { value: m.id },
    m.context_length ? `${m.id} · ${Math.round(m.context_length / 1024) || 1}k` : m.id));
  if (current && !ids.includes(current)) options.push(el('option', { value: current }, `${current} (unavailable)`));
  select.replaceChildren(...options);
  if (current) select.value = current;
  select.disabled = S.models.length === 0;
}

$('model-select').addEventListener('change', async (e) => {
  const model = e.target.value;
  if (!S.conv) { S.pending.model = model; return; }
  try {
    S.conv = await api.patch(`/api/conversations/${S.conv.id}`, { model });
  } catch (err) {
    reportError(err, 'Could not change the model');
    renderModelSelect();
  }
});

// ------------------------------------------------------------------ Sidebar

let searchTimer = null;

async function loadConversations() {
  const q = S.search.trim();
  const params = new URLSearchParams({ limit: '200' });
  if (q) params.set('q', q);
  try {
    const r = await api.get(`/api/conversations?${params}`);
    if (q !== S.search.trim()) return; // a newer search is on its way
    S.conversations = r.conversations || [];
  } catch (err) {
    reportError(err, 'Could not load your chats');
  }
  renderSidebar();
}

function dayGroup(iso) {
  const d = new Date(iso);
  const now = new Date();
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
  const t = d.getTime();
  if (t >= startOfToday) return 'Today';
  if (t >= startOfToday - 86400000) return 'Yesterday';
  if (t >= startOfToday - 7 * 86400000) return 'Previous 7 days';
  if (t >= startOfToday - 30 * 86400000) return 'Previous 30 days';
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'long' });
}

let sidebarKey = '';

function renderSidebar() {
  const list = $('conversation-list');
  const nodes = [];
  let group = null;
  const sorted = [...S.conversations].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
  // Unchanged list: keep the DOM (and the hover and focus in it).
  const key = JSON.stringify([S.conv && S.conv.id, !!S.search.trim(), new Date().toDateString(),
    sorted.map((c) => [c.id, c.title, c.updated_at])]);
  if (key === sidebarKey && list.childElementCount) return;
  sidebarKey = key;
  for (const c of sorted) {
    const g = dayGroup(c.updated_at || c.created_at);
    if (g !== group) { group = g; nodes.push(el('h3', { class: 'conv-group' }, g)); }
    const active = S.conv && S.conv.id === c.id;
    const title = c.title || 'New chat';
    nodes.push(el('div', { class: `conv-item${active ? ' active' : ''}`, 'data-testid': 'conversation-item', 'data-id': c.id },
      el('a', { class: 'conv-link', href: `#/c/${encodeURIComponent(c.id)}`, 'data-testid': 'conversation-link',
        'aria-current': active ? 'page' : null, title }, title),
      el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'conv-rename', 'aria-label': `Rename “${title}”`,
        onclick: () => renameConversation(c) }, icon('edit')),
      el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'conv-delete', 'aria-label': `Delete “${title}”`,
        onclick: () => deleteConversation(c) }, icon('trash'))));
  }
  if (sorted.length === 0) {
    nodes.push(el('p', { class: 'muted empty-list', 'data-testid': 'conversation-list-empty' },
      S.search.trim() ? 'No chats match your search.' : 'No chats yet.'));
  }
  list.replaceChildren(...nodes);
}

$('search-input').addEventListener('input', (e) => {
  S.search = e.target.value;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadConversations, 250);
});

async function renameConversation(c) {
  const title = await ask({ title: 'Rename chat', input: 'Title', value: c.title || '', ok: 'Rename' });
  if (title === null) return;
  const trimmed = title.trim();
  if (!trimmed) { toast('A title cannot be empty'); return; }
  try {
    const updated = await api.patch(`/api/conversations/${c.id}`, { title: trimmed });
    upsertConversation(updated);
    if (S.conv && S.conv.id === updated.id) { S.conv = updated; renderHeader(); }
  } catch (err) {
    reportError(err, 'Could not rename the chat');
  }
}

async function deleteConversation(c) {
  const ok = await ask({ title: 'Delete chat?', text: `“${c.title || 'New chat'}” and all its messages will be deleted. This cannot be undone.`, ok: 'Delete', danger: true });
  if (!ok) return;
  try {
    if (S.streaming && S.streaming.convId === c.id) await stopGenerating();
    await api.del(`/api/conversations/${c.id}`);
    S.conversations = S.conversations.filter((x) => x.id !== c.id);
    if (S.conv && S.conv.id === c.id) newChat();
    renderSidebar();
    toast('Chat deleted', 'info');
  } catch (err) {
    reportError(err, 'Could not delete the chat');
  }
}

function upsertConversation(c) {
  const i = S.conversations.findIndex((x) => x.id === c.id);
  if (i === -1) { if (!S.search.trim()) S.conversations.unshift(c); } else S.conversations[i] = c;
  renderSidebar();
}

function setDrawer(open) {
  $('app').classList.toggle('drawer-open', open);
  show($('scrim'), open);
  $('sidebar-open').setAttribute('aria-expanded', String(open));
  if (open) $('new-chat').focus();
}

$('sidebar-open').addEventListener('click', () => setDrawer(true));
$('sidebar-close').addEventListener('click', () => setDrawer(false));
$('scrim').addEventListener('click', () => setDrawer(false));
$('conversation-list').addEventListener('click', (e) => { if (e.target.closest('.conv-link')) setDrawer(false); });
$('new-chat').addEventListener('click', () => { newChat(); setDrawer(false); $('composer-input').focus(); });

// ------------------------------------------------------------------ Routing

function conversationIdFromHash() {
  const m = /^#\/c\/([^/]+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function routeFromHash() {
  const id = conversationIdFromHash();
  if (!id) { if (S.conv) newChat(); else renderAll(); return; }
  if (S.conv && S.conv.id === id) return;
  await openConversation(id);
}

window.addEventListener('hashchange', () => { if (S.user) routeFromHash(); });

function resetChat() {
  stopPolling();
  S.conv = null;
  S.messages = [];
  S.tree = buildTree([]);
  S.leafId = null;
  S.feedback = new Map();
  S.editing = null;
  S.pending = { model: null, system_prompt: null, temperature: null };
  S.conversations = [];
  S.search = '';
  $('search-input').value = '';
  $('thread').replaceChildren();
}

function newChat() {
  stopPolling();
  S.pendingProject = null;
  S.conv = null;
  S.messages = [];
  S.tree = buildTree([]);
  S.leafId = null;
  S.feedback = new Map();
  S.editing = null;
  S.pending = { model: null, system_prompt: null, temperature: null };
  if (location.hash) history.pushState(null, '', '/');
  show($('conv-settings'), false);
  renderAll();
}

async function openConversation(id, { keepScroll = false } = {}) {
  let r;
  try {
    r = await api.get(`/api/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      toast('That chat does not exist or is not yours.');
      history.replaceState(null, '', '/');
      newChat();
      return;
    }
    reportError(err, 'Could not open the chat');
    return;
  }
  if (conversationIdFromHash() !== id && location.hash !== `#/c/${encodeURIComponent(id)}`) {
    history.pushState(null, '', `#/c/${encodeURIComponent(id)}`);
  }
  const switching = !S.conv || S.conv.id !== id;
  S.conv = r.conversation;
  setMessages(r.messages || []);
  S.leafId = S.conv.current_leaf_id;
  S.feedback = new Map((r.feedback || []).map((f) => [f.message_id, f]));
  if (switching) { S.editing = null; S.stick = true; show($('conv-settings'), false); }
  renderAll({ scroll: switching || !keepScroll ? 'bottom' : null });
  schedulePolling();
}

function setMessages(messages) {
  S.messages = messages;
  S.tree = buildTree(messages);
}

function addOrReplaceMessage(m) {
  const i = S.messages.findIndex((x) => x.id === m.id);
  if (i === -1) S.messages.push(m); else S.messages[i] = { ...S.messages[i], ...m };
  S.tree = buildTree(S.messages);
}

// Replies generating elsewhere (another tab, or before a reload): poll until they settle.
function schedulePolling() {
  stopPolling();
  if (!S.conv || S.streaming) return;
  const generating = S.messages.some((m) => m.status === 'generating');
  if (!generating) return;
  const id = S.conv.id;
  S.pollTimer = setTimeout(() => { if (S.conv && S.conv.id === id && !S.streaming) openConversation(id, { keepScroll: true }); }, 1000);
}

function stopPolling() { clearTimeout(S.pollTimer); S.pollTimer = null; }

// ------------------------------------------------------------------ Rendering the chat

function renderAll(opts = {}) {
  renderHeader();
  renderModelSelect();
  renderSidebar();
  renderThread(opts);
  renderComposer();
}

function renderHeader() {
  const title = S.conv ? S.conv.title || 'New chat' : 'New chat';
  $('chat-title').textContent = title;
  const temporary = S.conv ? !!S.conv.temporary : S.temporary;
  show($('temporary-badge'), temporary);
  show($('temporary-toggle'), !S.conv);
  const projectId = S.conv ? S.conv.project_id : S.pendingProject;
  const project = projectId ? S.projects.find((p) => p.id === projectId) : null;
  show($('project-badge'), !!projectId);
  $('project-badge').textContent = project ? `Project: ${project.name}` : 'Project';
  $('project-badge').dataset.id = projectId || '';
  $('temporary-toggle').setAttribute('aria-pressed', String(S.temporary));
  document.title = S.conv && S.conv.title ? `${S.conv.title} · Parley` : 'Parley';
}

function renderComposer() {
  const streaming = !!S.streaming && (!S.conv || S.streaming.convId === S.conv.id);
  show($('send-button'), !streaming);
  show($('stop-button'), streaming);
  $('stop-button').disabled = streaming && S.streaming.stopRequested;
  $('send-button').disabled = !!S.streaming || $('composer-input').value.trim() === '';
}

function statusNote(m) {
  if (m.role !== 'assistant') return null;
  if (m.status === 'generating') {
    const ours = S.streaming && S.streaming.assistantId === m.id;
    return ours ? null : { cls: 'generating', text: 'Still generating…' };
  }
  if (m.status !== 'incomplete') return null;
  const note = S.notes.get(m.id);
  if (note === 'stopped') return { cls: 'stopped', text: 'Stopped — the reply was cut short' };
  if (note && note.startsWith('error:')) return { cls: 'interrupted', text: `Interrupted — ${note.slice(6).trim()}` };
  return { cls: 'interrupted', text: 'Incomplete — this reply was stopped or interrupted' };
}

function branchSwitcher(m) {
  const { index, count } = siblingInfo(S.tree, m.id);
  if (count < 2) return null;
  const busy = !!S.streaming;
  return el('div', { class: 'branch', 'data-testid': 'branch-switcher', role: 'group', 'aria-label': 'Versions' },
    el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'branch-prev', 'aria-label': 'Previous version',
      disabled: index === 0 || busy, onclick: () => doSwitchBranch(m.id, -1) }, icon('left')),
    el('span', { class: 'branch-label', 'data-testid': 'branch-label' }, `${index + 1}/${count}`),
    el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'branch-next', 'aria-label': 'Next version',
      disabled: index === count - 1 || busy, onclick: () => doSwitchBranch(m.id, +1) }, icon('right')));
}

function messageNode(m, isLastAssistant) {
  const streamingThis = S.streaming && S.streaming.assistantId === m.id;
  const article = el('article', {
    class: `msg ${m.role}${streamingThis ? ' streaming' : ''}`,
    'data-testid': 'message', 'data-role': m.role, 'data-id': m.id, 'data-status': m.status || 'complete',
  });
  if (m.role === 'user' && S.editing === m.id) {
    article.append(editBox(m));
    return article;
  }
  const content = el('div', { class: m.role === 'assistant' ? 'msg-content markdown' : 'msg-content plain', 'data-testid': 'message-content' });
  fillContent(content, m);
  const body = el('div', { class: 'msg-body' }, content);
  const note = statusNote(m);
  if (note) body.append(el('p', { class: `msg-status ${note.cls}`, 'data-testid': 'message-status', 'data-state': note.cls }, note.text));
  const used = m.role === 'assistant' ? memoryUsedNode(S.memory.get(m.id)) : null;
  if (used) body.append(used);
  if (m.role === 'assistant') article.append(el('div', { class: 'avatar bot', 'aria-hidden': 'true' }, '◆'));
  article.append(body);

  const actions = el('div', { class: 'msg-actions' });
  const switcher = branchSwitcher(m);
  if (switcher) actions.append(switcher);
  const busy = !!S.streaming;
  if (m.role === 'user') {
    actions.append(el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'edit-message', 'aria-label': 'Edit message',
      disabled: busy, onclick: () => { S.editing = m.id; renderThread(); } }, icon('edit')));
    actions.append(el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'copy-message', 'aria-label': 'Copy message',
      onclick: (e) => copyWithFeedback(e.currentTarget, m.content) }, icon('copy')));
  } else if (!streamingThis) {
    const fb = S.feedback.get(m.id);
    actions.append(
      el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'copy-message', 'aria-label': 'Copy reply',
        onclick: (e) => copyWithFeedback(e.currentTarget, m.content) }, icon('copy')),
      el('button', { type: 'button', class: `icon-btn tiny thumb${fb && fb.rating === 1 ? ' chosen' : ''}`, 'data-testid': 'thumb-up',
        'aria-label': 'Good reply', 'aria-pressed': String(!!fb && fb.rating === 1), onclick: () => openFeedback(m, 1) }, icon('thumbUp')),
      el('button', { type: 'button', class: `icon-btn tiny thumb${fb && fb.rating === -1 ? ' chosen' : ''}`, 'data-testid': 'thumb-down',
        'aria-label': 'Bad reply', 'aria-pressed': String(!!fb && fb.rating === -1), onclick: () => openFeedback(m, -1) }, icon('thumbDown')));
    if (isLastAssistant) {
      actions.append(el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'regenerate', 'aria-label': 'Regenerate reply',
        disabled: busy, onclick: () => regenerate(m) }, icon('refresh')));
    }
    if (fb && fb.comment) actions.append(el('span', { class: 'fb-comment muted', 'data-testid': 'feedback-comment-shown', title: fb.comment }, `“${fb.comment}”`));
  }
  article.append(actions);
  return article;
}

/** The crisis resource card shown above a reply the server marked `crisis_support`; dismissible. */
function wellbeingCard(messageId, wb) {
  const list = el('ul', { class: 'wb-lines' });
  for (const r of wb.resources) {
    const how = el('span', { class: 'wb-contact', 'data-testid': 'wellbeing-contact' });
    if (r.phone) how.append(el('a', { href: `tel:${String(r.phone).replace(/[^0-9+]/g, '')}` }, `Call ${r.phone}`));
    if (r.text) how.append(document.createTextNode(`${how.childNodes.length ? ' · ' : ''}${/^[0-9 ]+$/.test(r.text) ? `Text ${r.text}` : r.text}`));
    if (r.url) {
      if (how.childNodes.length) how.append(document.createTextNode(' · '));
      how.append(el('a', { href: r.url, target: '_blank', rel: 'noopener noreferrer' }, r.url.replace(/^https?:\/\//, '').replace(/\/$/, '')));
    }
    if (!how.childNodes.length && r.contact) how.textContent = r.contact;
    const meta = [r.hours, r.emergency ? `emergency: ${r.emergency}` : null].filter(Boolean).join(' · ');
    list.append(el('li', { 'data-testid': 'wellbeing-line' },
      el('strong', { class: 'wb-name' }, r.name), ' ', how,
      meta ? el('span', { class: 'wb-meta muted' }, ` (${meta})`) : '',
      el('span', { class: 'wb-source muted' }, ' — source: ',
        el('a', { href: r.source, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'wellbeing-source' }, r.source))));
  }
  return el('aside', { class: 'wellbeing-card', 'data-testid': 'wellbeing-card', role: 'note', 'aria-label': 'Support resources' },
    el('div', { class: 'wb-head' },
      el('strong', {}, 'You don’t have to face this alone'),
      el('button', { type: 'button', class: 'icon-btn tiny', 'data-testid': 'wellbeing-dismiss', 'aria-label': 'Dismiss',
        onclick: () => { S.wellbeing.delete(messageId); renderThread(); } }, '×')),
    el('p', {}, 'If you are thinking about ending your life or might be in danger, please reach out to someone now. ' +
      'These services are free and confidential:'),
    list);
}

function fillContent(node, m) {
  if (m.role === 'assistant') {
    if (!m.content && m.status === 'generating') {
      node.replaceChildren(el('span', { class: 'typing', 'aria-label': 'Generating' }, el('i'), el('i'), el('i')));
    } else renderMarkdown(node, m.content || '');
  } else node.textContent = m.content;
}

function editBox(m) {
  const area = el('textarea', { class: 'edit-input', 'data-testid': 'edit-input', 'aria-label': 'Edit your message', rows: '3' });
  area.value = m.content;
  const save = async () => {
    const text = area.value.trim();
    if (!text) return;
    S.editing = null;
    // the edit becomes a sibling of the original: same parent (null for the first message = a new root)
    await sendMessage(text, { parentId: m.parent_id ?? null });
  };
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); save(); }
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); S.editing = null; renderThread(); }
  });
  area.addEventListener('input', () => autoGrow(area, 320));
  requestAnimationFrame(() => { autoGrow(area, 320); area.focus(); area.setSelectionRange(area.value.length, area.value.length); });
  return el('div', { class: 'edit-box' }, area,
    el('div', { class: 'row end' },
      el('button', { type: 'button', class: 'btn ghost small', 'data-testid': 'edit-cancel', onclick: () => { S.editing = null; renderThread(); } }, 'Cancel'),
      el('button', { type: 'button', class: 'btn primary small', 'data-testid': 'edit-save', disabled: !!S.streaming, onclick: save }, 'Send')));
}

function renderThread({ scroll = null } = {}) {
  const path = visiblePath(S.tree, S.leafId);
  let lastAssistant = null;
  for (const m of path) if (m.role === 'assistant') lastAssistant = m.id;
  const nodes = path.filter((m) => m.role !== 'system').flatMap((m) => {
    const node = messageNode(m, m.id === lastAssistant);
    const wb = m.role === 'assistant' ? S.wellbeing.get(m.id) : null;
    return wb ? [wellbeingCard(m.id, wb), node] : [node];
  });
  $('thread').replaceChildren(...nodes);
  show($('empty-state'), path.length === 0);
  if (scroll === 'bottom' || S.stick) scrollToBottom();
  updateJumpButton();
}

function scrollToBottom() {
  const box = $('messages');
  box.scrollTop = box.scrollHeight;
  S.stick = true;
}

function updateJumpButton() {
  const box = $('messages');
  const far = box.scrollHeight - box.scrollTop - box.clientHeight > 120;
  show($('jump-bottom'), far);
}

$('messages').addEventListener('scroll', () => {
  const box = $('messages');
  S.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  updateJumpButton();
}, { passive: true });
$('jump-bottom').addEventListener('click', () => scrollToBottom());

// Code-block copy buttons (inside rendered Markdown)
$('thread').addEventListener('click', (e) => {
  const btn = e.target.closest('[data-action="copy-code"]');
  if (!btn) return;
  const code = btn.closest('.code-block').querySelector('pre code');
  copyWithFeedback(btn, code.textContent);
});

// Streamed text is re-rendered at most once per frame.
let frameQueued = false;
function queueStreamRender() {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const st = S.streaming;
    if (!st || !st.assistantId || !S.conv || S.conv.id !== st.convId) return;
    const m = S.tree.byId.get(st.assistantId);
    const node = $('thread').querySelector(`[data-id="${CSS.escape(st.assistantId)}"] .msg-content`);
    if (!m || !node) return;
    fillContent(node, m);
    if (S.stick) scrollToBottom();
  });
}

// ------------------------------------------------------------------ Sending and streaming

// body[data-busy] while a reply streams or the view waits for the server (tests and styles can rely on it).
let busyCount = 0;
function busy(delta) {
  busyCount = Math.max(0, busyCount + delta);
  if (busyCount) document.body.setAttribute('data-busy', ''); else document.body.removeAttribute('data-busy');
}

function autoGrow(area, max = 220) {
  area.style.height = 'auto';
  area.style.height = `${Math.min(area.scrollHeight, max)}px`;
  area.style.overflowY = area.scrollHeight > max ? 'auto' : 'hidden';
}

$('composer-input').addEventListener('input', () => { autoGrow($('composer-input')); renderComposer(); });
$('composer-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('composer-input');
  const text = input.value.trim();
  if (!text || S.streaming) return;
  input.value = '';
  autoGrow(input);
  const ok = await sendMessage(text, {});
  if (!ok && !input.value) { input.value = text; autoGrow(input); }
  renderComposer();
});

$('stop-button').addEventListener('click', () => stopGenerating());

document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || !S.streaming) return;
  if (document.querySelector('dialog[open]')) return; // Esc closes the dialog instead
  e.preventDefault();
  stopGenerating();
});

async function ensureConversation() {
  if (S.conv) return S.conv;
  const body = {};
  const model = S.pending.model || $('model-select').value || null;
  if (model) body.model = model;
  if (S.pending.system_prompt) body.system_prompt = S.pending.system_prompt;
  if (S.pending.temperature !== null && S.pending.temperature !== undefined) body.temperature = S.pending.temperature;
  if (S.temporary) body.temporary = true;
  if (S.pendingProject) body.project_id = S.pendingProject;
  const conv = await api.post('/api/conversations', body);
  S.conv = conv;
  S.messages = [];
  S.tree = buildTree([]);
  S.leafId = null;
  history.pushState(null, '', `#/c/${encodeURIComponent(conv.id)}`);
  upsertConversation(conv);
  return conv;
}

/** Send a user message (parentId undefined: under the current leaf; a message id or null: an edit). */
async function sendMessage(text, { parentId } = {}) {
  let conv;
  try {
    conv = await ensureConversation();
  } catch (err) {
    reportError(err, 'Could not start a chat');
    return false;
  }
  const body = { content: text };
  if (parentId !== undefined) body.parent_id = parentId;
  // Shown at once; replaced by the committed message when the stream's `user` event arrives.
  const optimistic = {
    id: `pending-${Date.now()}`, conversation_id: conv.id, role: 'user', content: text, status: 'complete',
    parent_id: parentId !== undefined ? parentId : S.leafId, created_at: new Date().toISOString(), pending: true,
  };
  addOrReplaceMessage(optimistic);
  const previousLeaf = S.leafId;
  S.leafId = optimistic.id;
  S.stick = true;
  return runStream(`/api/conversations/${conv.id}/messages`, body, { optimistic, previousLeaf });
}

async function regenerate(m) {
  if (S.streaming || !S.conv) return;
  S.stick = true;
  await runStream(`/api/conversations/${S.conv.id}/regenerate`, { message_id: m.id }, { previousLeaf: S.leafId });
}

async function runStream(path, body, { optimistic = null, previousLeaf = null } = {}) {
  const convId = S.conv.id;
  const st = { controller: new AbortController(), convId, assistantId: null, stopRequested: false, gotUser: false };
  S.streaming = st;
  busy(+1);
  renderAll({ scroll: 'bottom' });
  const here = () => S.conv && S.conv.id === convId;
  let ok = true;
  try {
    await api.stream(path, body, (event, data) => {
      if (S.streaming !== st) return;
      switch (event) {
        case 'user': {
          st.gotUser = true;
          if (!here()) return;
          if (optimistic) S.messages = S.messages.filter((x) => x.id !== optimistic.id);
          addOrReplaceMessage(data);
          S.leafId = data.id;
          renderThread();
          break;
        }
        case 'wellbeing': {
          // Only crisis support shows the card; other actions steer the reply without interrupting it.
          if (data && data.action === 'crisis_support' && Array.isArray(data.resources)) st.wellbeing = data;
          window.dispatchEvent(new CustomEvent('parley:wellbeing', { detail: data })); // wellbeing.js: review notice
          break;
        }
        case 'memory': {
          st.memory = data;
          if (data && data.update) memoryNotice(data.update);
          break;
        }
        case 'assistant': {
          st.assistantId = data.id;
          if (st.wellbeing) S.wellbeing.set(data.id, st.wellbeing);
          if (st.memory) S.memory.set(data.id, st.memory);
          if (!here()) return;
          addOrReplaceMessage({ ...data, content: data.content || '', status: 'generating' });
          S.leafId = data.id;
          renderThread();
          break;
        }
        case 'delta': {
          if (!here() || !st.assistantId) return;
          const m = S.tree.byId.get(st.assistantId);
          if (!m) return;
          const i = S.messages.findIndex((x) => x.id === st.assistantId);
          const text = (S.messages[i].content || '') + (data.text || '');
          S.messages[i] = { ...S.messages[i], content: text };
          m.content = text; // the tree's copy, without a rebuild per token
          queueStreamRender();
          break;
        }
        case 'done': {
          const final = data && data.message ? data.message : data;
          const title = data && typeof data.title === 'string' ? data.title : null;
          if (final && final.id) {
            st.assistantId = st.assistantId || final.id;
            if (final.status === 'incomplete' && st.stopRequested) S.notes.set(final.id, 'stopped');
            if (here()) addOrReplaceMessage(final);
          }
          if (title) {
            const c = S.conversations.find((x) => x.id === convId);
            if (c) c.title = title;
            if (here()) S.conv = { ...S.conv, title };
          }
          break;
        }
        case 'error': {
          const message = (data && data.message) || 'The reply failed';
          if (st.assistantId) {
            S.notes.set(st.assistantId, `error: ${message}`);
            const i = S.messages.findIndex((x) => x.id === st.assistantId);
            if (i !== -1 && here()) addOrReplaceMessage({ ...S.messages[i], status: 'incomplete' });
          }
          ok = false;
          toast(`The reply failed: ${message}`);
          break;
        }
        default: break; // unknown events are ignored (forward compatible)
      }
    }, st.controller.signal);
  } catch (err) {
    if (err.name === 'AbortError') {
      if (st.assistantId) S.notes.set(st.assistantId, 'stopped');
    } else {
      ok = false;
      if (st.assistantId) S.notes.set(st.assistantId, `error: ${errorText(err)}`);
      reportError(err, st.assistantId ? 'The reply was interrupted' : 'Could not send');
    }
  }
  if (S.streaming === st) S.streaming = null;
  // Nothing was committed: take the optimistic message back out.
  if (!st.gotUser && optimistic && here()) {
    S.messages = S.messages.filter((x) => x.id !== optimistic.id);
    S.tree = buildTree(S.messages);
    S.leafId = previousLeaf;
  }
  try {
    if (here()) await syncAfterStream(convId, st.assistantId);
    else await loadConversations();
  } finally {
    busy(-1);
  }
  renderComposer();
  window.dispatchEvent(new CustomEvent('parley:reply-done')); // wellbeing.js: break reminders
  return ok || st.gotUser;
}

/** After a reply: reload the tree from the server, keep the new reply on screen and make it the current leaf. */
async function syncAfterStream(convId, assistantId) {
  try {
    const r = await api.get(`/api/conversations/${convId}`);
    if (!S.conv || S.conv.id !== convId) return;
    S.conv = r.conversation;
    setMessages(r.messages || []);
    S.feedback = new Map((r.feedback || []).map((f) => [f.message_id, f]));
    const want = assistantId && S.tree.byId.has(assistantId) ? assistantId : S.conv.current_leaf_id;
    S.leafId = want;
    if (want && S.conv.current_leaf_id !== want) {
      S.conv = await api.patch(`/api/conversations/${convId}`, { current_leaf_id: want });
    }
  } catch (err) {
    reportError(err, 'Could not refresh the chat');
  }
  renderAll();
  upsertConversation(S.conv);
  loadConversations();
  schedulePolling();
}

async function stopGenerating() {
  const st = S.streaming;
  if (!st) return;
  if (st.stopRequested) return;
  st.stopRequested = true;
  $('stop-button').disabled = true;
  if (!st.assistantId) { st.controller.abort(); return; } // nothing generated yet: dropping the request stops it
  S.notes.set(st.assistantId, 'stopped');
  try {
    await api.post(`/api/messages/${st.assistantId}/stop`);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'Could not stop the reply');
    st.controller.abort();
    return;
  }
  // The server ends the stream with `done` (incomplete); if it does not soon, drop the connection.
  setTimeout(() => { if (S.streaming === st) st.controller.abort(); }, 3000);
}

async function doSwitchBranch(id, delta) {
  if (S.streaming || !S.conv) return;
  const leaf = switchBranch(S.tree, id, delta);
  if (!leaf) return;
  const before = S.leafId;
  S.leafId = leaf;
  S.editing = null;
  renderThread();
  busy(+1);
  try {
    S.conv = await api.patch(`/api/conversations/${S.conv.id}`, { current_leaf_id: leaf });
  } catch (err) {
    S.leafId = before;
    renderThread();
    reportError(err, 'Could not switch versions');
  } finally {
    busy(-1);
  }
}

// ------------------------------------------------------------------ Feedback

let feedbackTarget = null;

function openFeedback(m, rating) {
  feedbackTarget = { id: m.id, rating };
  const existing = S.feedback.get(m.id);
  $('feedback-title').textContent = rating === 1 ? 'What was good?' : 'What went wrong?';
  $('feedback-question').textContent = 'Add a comment (optional)';
  $('feedback-comment').value = existing && existing.rating === rating ? existing.comment || '' : '';
  $('feedback-dialog').returnValue = '';
  openDialog($('feedback-dialog'));
  $('feedback-comment').focus();
}

$('feedback-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!feedbackTarget) return;
  const { id, rating } = feedbackTarget;
  const comment = $('feedback-comment').value.trim();
  const submit = e.submitter || $('feedback-form').querySelector('[type=submit]');
  submit.disabled = true;
  try {
    const fb = await api.put(`/api/messages/${id}/feedback`, comment ? { rating, comment } : { rating });
    S.feedback.set(id, fb || { message_id: id, rating, comment });
    $('feedback-dialog').close('submit');
    renderThread();
  } catch (err) {
    reportError(err, 'Could not save the feedback');
  } finally {
    submit.disabled = false;
  }
});

// ------------------------------------------------------------------ Conversation settings

let tempIsDefault = true;

function showTemperature(value, isDefault) {
  tempIsDefault = isDefault;
  $('temperature').value = String(isDefault ? DEFAULT_TEMPERATURE : value);
  $('temperature-value').textContent = isDefault ? `default (${DEFAULT_TEMPERATURE})` : Number(value).toFixed(2);
}

function fillConvSettings() {
  const src = S.conv || S.pending;
  $('system-prompt').value = src.system_prompt || '';
  const t = src.temperature;
  showTemperature(t, t === null || t === undefined);
  $('conv-settings-status').textContent = S.conv ? '' : 'Applies to the chat you start next.';
}

$('conv-settings-toggle').addEventListener('click', () => {
  const panel = $('conv-settings');
  const open = panel.hidden;
  if (open) fillConvSettings();
  show(panel, open);
  $('conv-settings-toggle').setAttribute('aria-expanded', String(open));
  if (open) $('system-prompt').focus();
});
$('conv-settings-cancel').addEventListener('click', () => {
  show($('conv-settings'), false);
  $('conv-settings-toggle').setAttribute('aria-expanded', 'false');
});
$('temperature').addEventListener('input', (e) => showTemperature(Number(e.target.value), false));
$('temperature-reset').addEventListener('click', () => showTemperature(null, true));

$('conv-settings-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const system_prompt = $('system-prompt').value.trim() || null;
  const temperature = tempIsDefault ? null : Number($('temperature').value);
  if (!S.conv) {
    S.pending.system_prompt = system_prompt;
    S.pending.temperature = temperature;
    $('conv-settings-status').textContent = 'Saved for the next chat.';
    return;
  }
  try {
    S.conv = await api.patch(`/api/conversations/${S.conv.id}`, { system_prompt, temperature });
    $('conv-settings-status').textContent = 'Saved.';
    upsertConversation(S.conv);
  } catch (err) {
    $('conv-settings-status').textContent = '';
    reportError(err, 'Could not save the chat settings');
  }
});

// ------------------------------------------------------------------ User settings

function selectSettingsTab(name) {
  for (const tab of document.querySelectorAll('.settings-tabs [data-tab]')) tab.setAttribute('aria-selected', String(tab.dataset.tab === name));
  for (const panel of document.querySelectorAll('.settings-panel')) panel.hidden = panel.dataset.panel !== name;
  if (name === 'instructions') loadInstructions();
  if (name === 'memory') { $('memory-search').value = ''; $('memory-list').replaceChildren(); $('memory-status').textContent = ''; loadMemories(); }
  if (name === 'keys') loadKeys();
  if (name === 'admin') loadAdmin();
}

document.querySelector('.settings-tabs').addEventListener('click', (e) => {
  const tab = e.target.closest('[data-tab]');
  if (tab) selectSettingsTab(tab.dataset.tab);
});

$('open-settings').addEventListener('click', () => {
  show($('key-secret-box'), false);
  $('key-secret').textContent = '';
  $('data-status').textContent = '';
  selectSettingsTab('general');
  openDialog($('settings-dialog'));
});

async function loadInstructions() {
  $('instructions-status').textContent = 'Loading…';
  try {
    const s = await api.get('/api/settings');
    $('about-me').value = s.about_me || '';
    $('how-to-answer').value = s.how_to_answer || '';
    $('instructions-status').textContent = '';
  } catch (err) {
    $('instructions-status').textContent = '';
    reportError(err, 'Could not load your instructions');
  }
}

$('instructions-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await api.put('/api/settings', { about_me: $('about-me').value.trim(), how_to_answer: $('how-to-answer').value.trim() });
    $('instructions-status').textContent = 'Saved. New replies will follow them.';
  } catch (err) {
    reportError(err, 'Could not save your instructions');
  }
});

function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

async function loadKeys() {
  let keys;
  try {
    keys = (await api.get('/api/keys')).keys || [];
  } catch (err) {
    reportError(err, 'Could not load your keys');
    return;
  }
  const items = keys.map((k) => el('li', { class: `key-item${k.revoked_at ? ' revoked' : ''}`, 'data-testid': 'key-item', 'data-id': k.id, 'data-revoked': k.revoked_at ? 'true' : 'false' },
    el('div', { class: 'key-main' },
      el('strong', { class: 'key-name' }, k.name || 'Unnamed key'),
      el('code', { class: 'key-prefix' }, `${k.prefix}…`)),
    el('div', { class: 'key-meta muted' },
      `Created ${fmtDate(k.created_at)} · ${k.last_used_at ? `last used ${fmtDate(k.last_used_at)}` : 'never used'}`,
      k.revoked_at ? ` · revoked ${fmtDate(k.revoked_at)}` : ''),
    k.revoked_at ? el('span', { class: 'badge' }, 'Revoked') :
      el('button', { type: 'button', class: 'btn small danger-outline', 'data-testid': 'revoke-key', 'aria-label': `Revoke key ${k.name}`,
        onclick: () => revokeKey(k) }, 'Revoke')));
  if (items.length === 0) items.push(el('li', { class: 'muted' }, 'No keys yet.'));
  $('key-list').replaceChildren(...items);
}

$('key-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('key-name').value.trim();
  if (!name) { toast('Give the key a name'); return; }
  try {
    const r = await api.post('/api/keys', { name });
    $('key-secret').textContent = r.secret;
    show($('key-secret-box'), true);
    $('key-name').value = '';
    await loadKeys();
  } catch (err) {
    reportError(err, 'Could not create the key');
  }
});

$('copy-secret').addEventListener('click', (e) => copyWithFeedback(e.currentTarget, $('key-secret').textContent));

async function revokeKey(k) {
  const ok = await ask({ title: 'Revoke key?', text: `Programs using “${k.name}” (${k.prefix}…) will stop working.`, ok: 'Revoke', danger: true });
  if (!ok) return;
  try {
    await api.del(`/api/keys/${k.id}`);
    await loadKeys();
  } catch (err) {
    reportError(err, 'Could not revoke the key');
  }
}

$('export-button').addEventListener('click', async () => {
  $('data-status').textContent = 'Preparing the export…';
  try {
    const res = await api.request('GET', '/api/export');
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `parley-export-${new Date().toISOString().slice(0, 10)}.json`, class: 'offscreen' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    $('data-status').textContent = 'Export downloaded.';
  } catch (err) {
    $('data-status').textContent = '';
    reportError(err, 'Export failed');
  }
});

$('import-input').addEventListener('change', async (e) => {
  const file = e.target.files && e.target.files[0];
  if (!file) return;
  $('data-status').textContent = `Importing ${file.name}…`;
  try {
    let doc;
    try { doc = JSON.parse(await file.text()); } catch { throw new Error('That file is not JSON'); }
    const r = await api.post('/api/import', doc);
    const n = r && typeof r.imported === 'number' ? r.imported : 0;
    $('data-status').textContent = `Imported ${n} conversation${n === 1 ? '' : 's'}.`;
    await loadConversations();
  } catch (err) {
    $('data-status').textContent = `Import failed: ${errorText(err)}`;
    reportError(err, 'Import failed');
  } finally {
    e.target.value = '';
  }
});

async function loadAdmin() {
  try {
    const s = await api.get('/api/admin/settings');
    $('signup-toggle').checked = !!s.signup_enabled;
    $('admin-status').textContent = s.signup_enabled ? 'Anyone who can reach this server can create an account.' : 'Only existing users can sign in.';
  } catch (err) {
    reportError(err, 'Could not load the admin settings');
  }
}

$('signup-toggle').addEventListener('change', async (e) => {
  const want = e.target.checked;
  e.target.disabled = true;
  try {
    const s = await api.put('/api/admin/settings', { signup_enabled: want });
    e.target.checked = !!s.signup_enabled;
    S.signupEnabled = !!s.signup_enabled;
    $('admin-status').textContent = s.signup_enabled ? 'Sign-up is open.' : 'Sign-up is closed.';
  } catch (err) {
    e.target.checked = !want;
    reportError(err, 'Could not change sign-up');
  } finally {
    e.target.disabled = false;
  }
});

// ------------------------------------------------------------------ Memory

/** Under a reply: which saved memories and earlier chats went into it (the stream's `memory` event). */
function memoryUsedNode(info) {
  if (!info) return null;
  const used = info.used || [];
  const history = info.history || [];
  if (info.temporary) {
    return el('p', { class: 'memory-used muted', 'data-testid': 'memory-temporary' }, 'Temporary chat: memory was not used or changed');
  }
  const files = info.files || [];
  if (used.length === 0 && history.length === 0 && files.length === 0) return null;
  const parts = [];
  if (files.length) parts.push(`${files.length} file ${files.length === 1 ? 'excerpt' : 'excerpts'}`);
  if (used.length) parts.push(`${used.length} ${used.length === 1 ? 'memory' : 'memories'}`);
  if (history.length) parts.push(`${history.length} earlier ${history.length === 1 ? 'chat' : 'chats'}`);
  const list = el('ul', {},
    ...files.map((f) => el('li', { 'data-testid': 'file-citation', 'data-file-id': f.file_id },
      el('span', { class: 'citation' }, `[${f.n}] `), `${f.name} (part ${f.part}): `, el('span', { class: 'source' }, f.text.length > 160 ? `${f.text.slice(0, 160)}…` : f.text))),
    ...used.map((m) => el('li', { 'data-testid': 'memory-used-item', 'data-id': m.id }, m.text)),
    ...history.map((h) => el('li', { 'data-testid': 'memory-history-item' },
      el('a', { href: `#/c/${encodeURIComponent(h.conversation_id)}`, class: 'source' }, 'Earlier chat: '), h.text)));
  return el('details', { class: 'memory-used', 'data-testid': 'memory-used' },
    el('summary', { 'data-testid': 'memory-used-summary' }, `Used ${parts.join(' and ')}`), list);
}

/** The "memory updated" notice, with undo. */
function memoryNotice(update) {
  const memories = update.memories || [];
  let text;
  switch (update.action) {
    case 'remembered': case 'proposed':
      text = `Memory updated: ${memories.map((m) => `“${m.text}”`).join(', ')}`; break;
    case 'forgotten':
      text = `Forgot ${memories.length} ${memories.length === 1 ? 'memory' : 'memories'}: ${memories.map((m) => `“${m.text}”`).join(', ')}`; break;
    case 'already_known': text = 'Already in memory'; break;
    case 'no_match': text = `No saved memory matched “${update.request}”`; break;
    default: return;
  }
  const box = $('toasts');
  const node = el('div', { class: 'toast memory', role: 'status', 'data-testid': 'memory-notice', 'data-action': update.action },
    el('span', { class: 'toast-text' }, text));
  const undoable = (update.action === 'remembered' || update.action === 'proposed' || update.action === 'forgotten') && memories.length;
  if (undoable) {
    node.append(el('button', { type: 'button', class: 'btn small', 'data-testid': 'memory-undo', onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        if (update.action === 'forgotten') {
          for (const m of memories) await api.post('/api/memories', { text: m.text });
        } else {
          for (const m of memories) await api.del(`/api/memories/${encodeURIComponent(m.id)}`);
        }
        node.replaceChildren(el('span', { class: 'toast-text', 'data-testid': 'memory-undone' }, 'Undone'));
        setTimeout(() => node.remove(), 3000);
      } catch (err) {
        reportError(err, 'Could not undo');
      }
    } }, 'Undo'));
  }
  node.append(el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', onclick: () => node.remove() }, icon('close')));
  const host = document.querySelector('dialog[open]') || document.body;
  if (box.parentNode !== host) host.append(box);
  box.append(node);
  setTimeout(() => node.remove(), 15000);
}

$('temporary-toggle').addEventListener('click', () => {
  if (S.conv) return;
  S.temporary = !S.temporary;
  renderHeader();
});

let memorySearchTimer = null;

async function loadMemories() {
  const q = $('memory-search').value.trim();
  let r, settings;
  try {
    [r, settings] = await Promise.all([
      api.get(q ? `/api/memories?q=${encodeURIComponent(q)}` : '/api/memories'),
      api.get('/api/memory/settings'),
    ]);
  } catch (err) {
    reportError(err, 'Could not load your memories');
    return;
  }
  show($('memory-unavailable'), !r.available);
  $('memory-auto-toggle').checked = !!settings.auto_memory;
  $('memory-auto-toggle').disabled = !settings.available;
  $('memory-add-input').disabled = !r.available;
  const items = (r.memories || []).map((m) => el('li', { class: 'key-item memory-item', 'data-testid': 'memory-item', 'data-id': m.id },
    el('div', { class: 'memory-text', 'data-testid': 'memory-text' }, m.text),
    el('div', { class: 'key-meta muted' }, `Saved ${fmtDate(m.created_at)}${m.updated_at !== m.created_at ? ` · edited ${fmtDate(m.updated_at)}` : ''}`),
    el('div', { class: 'memory-actions' },
      el('button', { type: 'button', class: 'btn small', 'data-testid': 'memory-edit', 'aria-label': 'Edit memory', onclick: () => editMemory(m) }, 'Edit'),
      el('button', { type: 'button', class: 'btn small danger-outline', 'data-testid': 'memory-delete', 'aria-label': 'Delete memory',
        onclick: () => deleteMemory(m) }, 'Delete'))));
  if (items.length === 0) items.push(el('li', { class: 'muted', 'data-testid': 'memory-empty' }, q ? 'No memory matches.' : 'Nothing remembered yet.'));
  $('memory-list').replaceChildren(...items);
  $('memory-status').textContent = r.available ? `${(r.memories || []).length} ${q ? 'found' : 'saved'}` : '';
}

async function editMemory(m) {
  const text = await ask({ title: 'Edit memory', input: 'Memory', value: m.text, ok: 'Save' });
  if (text === null || !text.trim()) return;
  try {
    await api.patch(`/api/memories/${encodeURIComponent(m.id)}`, { text: text.trim() });
    await loadMemories();
  } catch (err) {
    reportError(err, 'Could not save the memory');
  }
}

async function deleteMemory(m) {
  const ok = await ask({ title: 'Delete memory?', text: `Parley will no longer use “${m.text}”.`, ok: 'Delete', danger: true });
  if (!ok) return;
  try {
    await api.del(`/api/memories/${encodeURIComponent(m.id)}`);
    await loadMemories();
  } catch (err) {
    reportError(err, 'Could not delete the memory');
  }
}

$('memory-add-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('memory-add-input').value.trim();
  if (!text) return;
  try {
    await api.post('/api/memories', { text });
    $('memory-add-input').value = '';
    await loadMemories();
  } catch (err) {
    reportError(err, 'Could not save the memory');
  }
});

$('memory-search').addEventListener('input', () => {
  clearTimeout(memorySearchTimer);
  memorySearchTimer = setTimeout(loadMemories, 250);
});

$('memory-auto-toggle').addEventListener('change', async (e) => {
  const want = e.target.checked;
  e.target.disabled = true;
  try {
    const s = await api.put('/api/memory/settings', { auto_memory: want });
    e.target.checked = !!s.auto_memory;
    $('memory-status').textContent = s.auto_memory ? 'Auto-memory is on.' : 'Auto-memory is off: only what you ask to remember is saved.';
  } catch (err) {
    e.target.checked = !want;
    reportError(err, 'Could not change auto-memory');
  } finally {
    e.target.disabled = false;
  }
});

// ------------------------------------------------------------------ Projects

async function loadProjects() {
  try {
    S.projects = (await api.get('/api/chat-projects')).projects || [];
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 503)) reportError(err, 'Could not load your projects');
    S.projects = [];
  }
  renderProjects();
}

function renderProjects() {
  const items = S.projects.map((p) => el('li', {},
    el('button', { type: 'button', 'data-testid': 'project-item', 'data-id': p.id, title: p.instructions || p.name,
      onclick: () => openProjectDialog(p.id) }, p.name)));
  if (!items.length) items.push(el('li', { class: 'muted empty-list', 'data-testid': 'project-list-empty' }, 'No projects yet.'));
  $('project-list').replaceChildren(...items);
  renderHeader();
}

$('new-project').addEventListener('click', async () => {
  const name = await ask({ title: 'New project', input: 'Name', ok: 'Create' });
  if (name === null || !name.trim()) return;
  try {
    const p = await api.post('/api/chat-projects', { name: name.trim() });
    await loadProjects();
    await openProjectDialog(p.id);
  } catch (err) {
    reportError(err, 'Could not create the project');
  }
});

$('project-badge').addEventListener('click', () => { if ($('project-badge').dataset.id) openProjectDialog($('project-badge').dataset.id); });

async function openProjectDialog(id) {
  let r;
  try {
    r = await api.get(`/api/chat-projects/${encodeURIComponent(id)}`);
  } catch (err) {
    reportError(err, 'Could not open the project');
    return;
  }
  S.openProject = r.project;
  $('project-title').textContent = r.project.name;
  $('project-name').value = r.project.name;
  $('project-instructions').value = r.project.instructions || '';
  $('project-status').textContent = '';
  renderProjectFiles(r.files || []);
  openDialog($('project-dialog'));
}

function renderProjectFiles(files) {
  const items = files.map((f) => el('li', { class: 'key-item', 'data-testid': 'project-file', 'data-id': f.id },
    el('div', { class: 'key-main' }, el('strong', { 'data-testid': 'project-file-name' }, f.name)),
    el('div', { class: 'key-meta muted' }, `${Math.max(1, Math.round(f.size / 1024))} KB · ${f.chunks} ${f.chunks === 1 ? 'passage' : 'passages'} · added ${fmtDate(f.created_at)}`),
    el('button', { type: 'button', class: 'btn small danger-outline', 'data-testid': 'project-file-delete', 'aria-label': `Delete ${f.name}`,
      onclick: () => deleteProjectFile(f) }, 'Delete')));
  if (!items.length) items.push(el('li', { class: 'muted', 'data-testid': 'project-files-empty' }, 'No files yet.'));
  $('project-files').replaceChildren(...items);
}

async function deleteProjectFile(f) {
  const ok = await ask({ title: 'Delete file?', text: `“${f.name}” and its index will be deleted.`, ok: 'Delete', danger: true });
  if (!ok || !S.openProject) return;
  try {
    await api.del(`/api/chat-projects/${encodeURIComponent(S.openProject.id)}/files/${encodeURIComponent(f.id)}`);
    await openProjectDialog(S.openProject.id);
  } catch (err) {
    reportError(err, 'Could not delete the file');
  }
}

$('project-file-input').addEventListener('change', async (e) => {
  const file = e.target.files && e.target.files[0];
  if (!file || !S.openProject) return;
  $('project-status').textContent = `Adding ${file.name}…`;
  try {
    const res = await fetch(`/api/chat-projects/${encodeURIComponent(S.openProject.id)}/files?name=${encodeURIComponent(file.name)}`, {
      method: 'POST', credentials: 'same-origin', body: file,
      headers: { 'Content-Type': file.type || 'application/octet-stream', 'X-CSRF-Token': api.csrf || '', Accept: 'application/json' },
    });
    if (!res.ok) throw await api.errorFrom(res);
    $('project-status').textContent = `Added ${file.name}.`;
    const r = await api.get(`/api/chat-projects/${encodeURIComponent(S.openProject.id)}`);
    renderProjectFiles(r.files || []);
  } catch (err) {
    $('project-status').textContent = `Could not add ${file.name}: ${errorText(err)}`;
    reportError(err, 'Could not add the file');
  } finally {
    e.target.value = '';
  }
});

$('project-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!S.openProject) return;
  try {
    const p = await api.patch(`/api/chat-projects/${encodeURIComponent(S.openProject.id)}`,
      { name: $('project-name').value.trim(), instructions: $('project-instructions').value.trim() });
    S.openProject = p;
    $('project-title').textContent = p.name;
    $('project-status').textContent = 'Saved.';
    await loadProjects();
  } catch (err) {
    reportError(err, 'Could not save the project');
  }
});

$('project-delete').addEventListener('click', async () => {
  const p = S.openProject;
  if (!p) return;
  const ok = await ask({ title: 'Delete project?', text: `“${p.name}”, its instructions and files will be deleted. Its chats stay.`, ok: 'Delete', danger: true });
  if (!ok) return;
  try {
    await api.del(`/api/chat-projects/${encodeURIComponent(p.id)}`);
    $('project-dialog').close();
    S.openProject = null;
    await loadProjects();
  } catch (err) {
    reportError(err, 'Could not delete the project');
  }
});

$('project-new-chat').addEventListener('click', () => {
  const p = S.openProject;
  $('project-dialog').close();
  newChat();
  S.pendingProject = p ? p.id : null;
  renderHeader();
  $('composer-input').focus();
});

// ------------------------------------------------------------------ Go

window.addEventListener('unhandledrejection', (e) => reportError(e.reason));
boot();
