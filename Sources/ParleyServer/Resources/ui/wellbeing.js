// The wellbeing parts of the app (docs/app-api.md, "Wellbeing"): break reminders the server decides on, the
// honest notice when a message opened a human-review case, the user's usage signals and stored assessments in
// Settings → Wellbeing, and the administrators' review queue in Settings → Review. app.js announces sign-in,
// finished replies and `wellbeing` stream events as window events; everything else happens here.

const BREAK_POLL_MS = 60_000;
const W = { api: null, user: null, timer: null, reminderShown: false, cases: [], openCase: null };

const $ = (id) => document.getElementById(id);

/** createElement with attributes, event handlers (`onclick`) and children; text only, never HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== '') node.append(c instanceof Node ? c : String(c));
  return node;
}

function timeZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch { return ''; }
}

function tzQuery() {
  const tz = timeZone();
  return tz ? `?tz=${encodeURIComponent(tz)}` : '';
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function errorText(err) { return (err && err.message) || String(err); }

// ------------------------------------------------------------------ Break reminders

async function checkBreak() {
  if (!W.api) return;
  let r;
  try { r = await W.api.get(`/api/wellbeing/break-reminder${tzQuery()}`); } catch { return; } // retried on the next tick
  if (r && r.reminder) showReminder(r.reminder); else hideReminder();
}

function reminderText(rem) {
  const hours = rem.session_minutes >= 90 ? `${Math.round(rem.session_minutes / 6) / 10} hours` : `${rem.session_minutes} minutes`;
  return rem.reason === 'late_night'
    ? `It's late, and you've been chatting for ${hours}. Sleep helps more than one more message — this will be here tomorrow.`
    : `You've been chatting for ${hours}. How about a short break — stretch, get some water, or check in with someone?`;
}

function showReminder(rem) {
  let box = $('break-reminder');
  const text = reminderText(rem);
  if (box) { box.querySelector('.wb-break-text').textContent = text; return; }
  box = el('aside', { id: 'break-reminder', class: 'wb-banner wb-break', role: 'status', 'data-testid': 'break-reminder',
    'data-reason': rem.reason },
    el('span', { class: 'wb-break-text' }, text),
    el('span', { class: 'wb-actions' },
      el('button', { type: 'button', class: 'btn small', 'data-testid': 'break-snooze', onclick: () => actOnReminder({ action: 'snooze', minutes: 30 }) }, 'Remind me in 30 min'),
      el('button', { type: 'button', class: 'btn small ghost', 'data-testid': 'break-dismiss', onclick: () => actOnReminder({ action: 'dismiss' }) }, 'Dismiss')));
  const main = document.querySelector('main.chat');
  if (main) main.prepend(box); else document.body.prepend(box);
  W.reminderShown = true;
}

function hideReminder() {
  const box = $('break-reminder');
  if (box) box.remove();
  W.reminderShown = false;
}

async function actOnReminder(body) {
  hideReminder();
  try { await W.api.post('/api/wellbeing/break-reminder', body); } catch { /* shown again on the next check */ }
}

// ------------------------------------------------------------------ Review notice

function showReviewNotice(text) {
  const old = $('review-notice');
  if (old) old.remove();
  const box = el('aside', { id: 'review-notice', class: 'wb-banner wb-review', role: 'note', 'data-testid': 'review-notice' },
    el('span', {}, text),
    el('button', { type: 'button', class: 'icon-btn tiny', 'aria-label': 'Dismiss', 'data-testid': 'review-notice-dismiss',
      onclick: () => box.remove() }, '×'));
  const main = document.querySelector('main.chat');
  if (main) main.prepend(box); else document.body.prepend(box);
}

// ------------------------------------------------------------------ Settings: tabs and panels

function addSettingsTab(name, label, adminOnly) {
  const tabs = document.querySelector('.settings-tabs');
  const body = document.querySelector('.settings-body');
  if (!tabs || !body) return null;
  let tab = tabs.querySelector(`[data-tab="${name}"]`);
  if (!tab) {
    tab = el('button', { type: 'button', role: 'tab', 'data-tab': name, 'aria-selected': 'false', 'data-testid': `settings-tab-${name}` }, label);
    tabs.append(tab);
    body.append(el('section', { class: 'settings-panel', 'data-panel': name, role: 'tabpanel', hidden: true, id: `wb-panel-${name}` }));
  }
  tab.hidden = adminOnly && !(W.user && W.user.is_admin);
  return tab;
}

function panel(name) { return $(`wb-panel-${name}`); }

function pct(x) { return `${Math.round(x * 100)} %`; }

async function loadWellbeingPanel() {
  const p = panel('wellbeing');
  p.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  try {
    const [u, r] = await Promise.all([W.api.get(`/api/wellbeing/usage${tzQuery()}`), W.api.get('/api/wellbeing/records')]);
    const row = (label, value, limit, over, testid) => el('div', { class: 'setting-row', 'data-testid': testid },
      el('span', {}, label),
      el('span', { class: over ? 'wb-over' : 'muted' }, `${value} (the policy's limit: ${limit})`));
    const counts = {};
    for (const rec of r.records) counts[rec.category] = (counts[rec.category] || 0) + 1;
    const deleteButton = el('button', { type: 'button', class: 'btn small danger', 'data-testid': 'wellbeing-delete-records',
      onclick: async () => {
        if (!window.confirm('Delete all your stored wellbeing assessments?')) return;
        try { await W.api.del('/api/wellbeing/records'); await loadWellbeingPanel(); } catch (err) { status.textContent = errorText(err); }
      } }, 'Delete them');
    const status = el('p', { class: 'muted', 'aria-live': 'polite' });
    p.replaceChildren(
      el('h3', {}, `Your use over the last ${u.window_days} days`),
      el('p', { class: 'muted' }, 'Parley looks at when you chat (never what you wrote) to notice when it may be taking the place of people or sleep. Only you and this server see these numbers.'),
      row('Hours per day', u.hours_per_day.toFixed(2), u.limits.hours_per_day, u.signals.heavy_daily_use, 'wellbeing-hours'),
      row('Share of it late at night', pct(u.late_night_share), pct(u.limits.late_night_share), u.signals.mostly_late_night, 'wellbeing-late-night'),
      row('Messages leaning on the assistant alone', String(u.exclusivity_mentions), u.limits.exclusivity_mentions,
        u.signals.exclusivity_across_sessions, 'wellbeing-exclusivity'),
      el('h3', {}, 'Stored assessments'),
      el('p', { class: 'muted', 'data-testid': 'wellbeing-records-summary' },
        r.records.length
          ? `${r.records.length} kept (category, severity, action and time only — never your words), deleted after ${r.retention_days} days: ` +
            Object.entries(counts).map(([c, n]) => `${c.replace(/_/g, ' ')} ${n}`).join(', ') + '.'
          : `None stored. When a message of yours gets a caring reply, its category and time are kept for ${r.retention_days} days.`),
      r.records.length ? el('div', { class: 'setting-row' }, el('span', {}, 'Delete your stored assessments'), deleteButton) : '',
      status);
  } catch (err) {
    p.replaceChildren(el('p', { class: 'error' }, `Could not load: ${errorText(err)}`));
  }
}

// ------------------------------------------------------------------ Settings: the review queue (admins)

async function loadCases(filter = 'open') {
  const p = panel('review');
  const select = el('select', { 'data-testid': 'review-filter', onchange: (e) => loadCases(e.target.value) },
    ...['open', 'in_review', 'closed', ''].map((v) => el('option', { value: v, selected: v === filter }, v ? v.replace('_', ' ') : 'all')));
  p.replaceChildren(el('div', { class: 'setting-row' }, el('span', {}, 'Human-review cases'), select), el('p', { class: 'muted' }, 'Loading…'));
  try {
    const r = await W.api.get(`/api/admin/wellbeing/cases${filter ? `?status=${filter}` : ''}`);
    W.cases = r.cases;
    const list = el('ul', { class: 'wb-cases', 'data-testid': 'review-cases' },
      ...r.cases.map((c) => el('li', {},
        el('button', { type: 'button', class: 'wb-case-btn', 'data-testid': 'review-case', 'data-case-id': c.id, onclick: () => openCase(c.id, filter) },
          el('strong', {}, c.record.category.replace(/_/g, ' ')), ` · severity ${c.record.severity} · ${c.status.replace('_', ' ')} · ${c.user.email} · ${when(c.created_at)}`))));
    p.replaceChildren(p.firstChild, r.cases.length ? list : el('p', { class: 'muted', 'data-testid': 'review-empty' }, 'No cases.'));
  } catch (err) {
    p.replaceChildren(p.firstChild, el('p', { class: 'error' }, `Could not load the cases: ${errorText(err)}`));
  }
}

async function openCase(id, filter) {
  const p = panel('review');
  try {
    renderCase(await W.api.get(`/api/admin/wellbeing/cases/${encodeURIComponent(id)}`), filter);
  } catch (err) {
    p.append(el('p', { class: 'error' }, `Could not open the case: ${errorText(err)}`));
  }
}

function renderCase(detail, filter) {
  const p = panel('review');
  const c = detail.case;
  const note = el('textarea', { rows: 2, maxlength: 4000, placeholder: 'What was done (no need to quote the user)', 'data-testid': 'review-note' });
  const act = async (body) => {
    try { renderCase(await W.api.post(`/api/admin/wellbeing/cases/${encodeURIComponent(c.id)}/events`, body), filter); } catch (err) {
      p.append(el('p', { class: 'error' }, errorText(err)));
    }
  };
  p.replaceChildren(
    el('button', { type: 'button', class: 'btn small ghost', onclick: () => loadCases(filter) }, '← All cases'),
    el('h3', { 'data-testid': 'review-case-title' }, `${c.record.category.replace(/_/g, ' ')} · severity ${c.record.severity}`),
    el('p', { class: 'muted' }, `User ${c.user.email} · action ${c.record.action} · ${when(c.created_at)} · status `,
      el('strong', { 'data-testid': 'review-case-status' }, c.status.replace('_', ' '))),
    el('ol', { class: 'wb-events', 'data-testid': 'review-events' },
      ...detail.events.map((e) => el('li', {}, `${when(e.created_at)} — ${e.actor}: ${e.event.replace('_', ' ')}${e.detail ? ` (${e.detail})` : ''}`))),
    note,
    el('div', { class: 'row wb-actions' },
      el('button', { type: 'button', class: 'btn small', 'data-testid': 'review-take', onclick: () => act({ status: 'in_review', note: note.value.trim() || null }) }, 'Take it'),
      el('button', { type: 'button', class: 'btn small', 'data-testid': 'review-close', onclick: () => act({ status: 'closed', note: note.value.trim() || null }) }, 'Close'),
      el('button', { type: 'button', class: 'btn small ghost', 'data-testid': 'review-add-note',
        onclick: () => { if (note.value.trim()) act({ note: note.value.trim() }); } }, 'Add note')));
}

// ------------------------------------------------------------------ Wiring

window.addEventListener('parley:signed-in', (e) => {
  W.api = e.detail.api;
  W.user = e.detail.user;
  addSettingsTab('wellbeing', 'Wellbeing', false);
  addSettingsTab('review', 'Review', true);
  clearInterval(W.timer);
  W.timer = setInterval(checkBreak, BREAK_POLL_MS);
  checkBreak();
});

window.addEventListener('parley:reply-done', () => { checkBreak(); });

window.addEventListener('parley:wellbeing', (e) => {
  if (e.detail && typeof e.detail.review_notice === 'string' && e.detail.review_notice) showReviewNotice(e.detail.review_notice);
});

document.addEventListener('click', (e) => {
  const tab = e.target.closest && e.target.closest('.settings-tabs [data-tab]');
  if (!tab || !W.api) return;
  if (tab.dataset.tab === 'wellbeing') loadWellbeingPanel();
  if (tab.dataset.tab === 'review') loadCases('open');
});
