// The compute-credits page (/ui/credits.html): project leads request credits and make project keys, members see
// balances and alerts, reviewers decide, admins set areas, reviewers and prices; everyone sees the portfolio.
import { Api } from './api.js';

const api = new Api({ onUnauthorized: () => { location.href = '/'; } });
const $ = (id) => document.getElementById(id);
const S = { user: null, areas: [], projects: [], current: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function fmt(n) { return n === null || n === undefined ? '—' : Number(n).toLocaleString('en', { maximumFractionDigits: 6 }); }
function hours(seconds) { return seconds === null || seconds === undefined ? '—' : `${(seconds / 3600).toFixed(1)} h`; }

function showError(err) {
  const box = $('credits-error');
  box.textContent = err ? (err.message || String(err)) : '';
  box.hidden = !err;
}

async function run(action) {
  showError(null);
  try { await action(); } catch (err) { showError(err); }
}

function formData(form) { return Object.fromEntries(new FormData(form).entries()); }

// ------------------------------------------------------------------ Projects

async function loadProjects() {
  S.projects = (await api.get('/api/projects')).projects || [];
  const body = $('projects-body');
  body.replaceChildren(...S.projects.map((p) => el('tr', { 'data-testid': 'project-row', 'data-project': p.id },
    el('td', {}, el('button', { class: 'link', type: 'button', 'data-testid': 'project-open', onclick: () => run(() => openProject(p.id)) }, p.name)),
    el('td', {}, p.my_role || 'reviewer'),
    el('td', {}, fmt(p.balance.granted)), el('td', {}, fmt(p.balance.used)),
    el('td', { 'data-testid': 'project-remaining' }, fmt(p.balance.remaining)))));
}

async function loadAreas() {
  S.areas = (await api.get('/api/research-areas')).research_areas || [];
  for (const select of [document.querySelector('#project-form select'), $('reviewer-form').querySelector('select')]) {
    select.replaceChildren(...S.areas.map((a) => el('option', { value: a.id }, a.name)));
  }
}

async function openProject(id) {
  const p = await api.get(`/api/projects/${encodeURIComponent(id)}`);
  S.current = p;
  $('project-detail').hidden = false;
  $('detail-title').textContent = p.name;
  $('detail-balance').textContent =
    `Granted ${fmt(p.balance.granted)} · used ${fmt(p.balance.used)} · held ${fmt(p.balance.held)} · expired ${fmt(p.balance.expired)} · remaining ${fmt(p.balance.remaining)} credits`;
  $('detail-members').replaceChildren(...p.members.map((m) => el('li', {}, `${m.name || m.user_id} (${m.role})`)));
  const alerts = (await api.get(`/api/projects/${encodeURIComponent(id)}/alerts`)).alerts || [];
  $('detail-alerts').replaceChildren(...alerts.map((a) => el('p', { 'data-testid': 'alert' }, `${a.threshold} %: ${a.message}`)));
  const lead = p.lead_id === S.user.id;
  $('request-form').hidden = !lead;
  $('member-form').hidden = !lead && !S.user.is_admin;
  $('detail-requests-body').replaceChildren(...p.credit_requests.slice().reverse().map((r) => el('tr', { 'data-testid': 'request-row' },
    el('td', {}, r.kind), el('td', {}, fmt(r.amount)), el('td', { 'data-testid': 'request-status' }, r.status),
    el('td', {}, fmt(r.granted)), el('td', {}, r.reason || ''), el('td', {}, hours(r.waited_seconds)),
    el('td', {}, lead && r.status === 'denied'
      ? el('button', { type: 'button', 'data-testid': 'request-appeal', onclick: () => run(() => appeal(r.id)) }, 'Appeal') : ''))));
  $('key-secret').hidden = true;
}

async function appeal(id) {
  const reason = prompt('Why should a different reviewer decide again?');
  if (!reason) return;
  await api.post(`/api/credit-requests/${encodeURIComponent(id)}/appeal`, { reason });
  await refresh();
}

$('project-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const p = await api.post('/api/projects', formData(e.target));
    e.target.reset();
    await loadProjects();
    await openProject(p.id);
  });
});

$('member-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    await api.post(`/api/projects/${encodeURIComponent(S.current.id)}/members`, formData(e.target));
    e.target.reset();
    await openProject(S.current.id);
  });
});

$('request-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const f = formData(e.target);
    const body = { amount: Number(f.amount), kind: f.kind, justification: f.justification, expected_outcome: f.expected_outcome };
    if (f.period_end) body.period_end = f.period_end;
    await api.post(`/api/projects/${encodeURIComponent(S.current.id)}/credit-requests`, body);
    e.target.reset();
    await refresh();
  });
});

$('key-create').addEventListener('click', () => run(async () => {
  const r = await api.post('/api/keys', { name: `${S.current.name} key`, project_id: S.current.id });
  $('key-secret').textContent = r.key;
  $('key-secret').hidden = false;
}));

// ------------------------------------------------------------------ Review

async function loadReview() {
  const list = (await api.get('/api/credit-requests?scope=review')).credit_requests || [];
  $('review-empty').hidden = list.length > 0;
  $('review-list').replaceChildren(...list.map((r) => {
    const amount = el('input', { type: 'number', min: '0', step: 'any', placeholder: 'amount for partial', 'data-testid': 'decision-amount' });
    const reason = el('input', { placeholder: 'reason (required unless approved in full)', 'data-testid': 'decision-reason' });
    const decide = (decision) => run(async () => {
      const body = { decision };
      if (reason.value.trim()) body.reason = reason.value.trim();
      if (decision === 'partial') body.amount = Number(amount.value);
      await api.post(`/api/credit-requests/${encodeURIComponent(r.id)}/decision`, body);
      await refresh();
    });
    return el('div', { class: 'review-item', 'data-testid': 'review-item', 'data-request': r.id },
      el('p', {}, el('strong', {}, r.project_name || r.project_id), ` asks ${fmt(r.amount)} credits (${r.kind}), waiting ${hours(r.waited_seconds)}`),
      el('p', {}, `Justification: ${r.justification}`), r.expected_outcome ? el('p', {}, `Expected outcome: ${r.expected_outcome}`) : '',
      el('div', { class: 'row' }, amount, reason,
        el('button', { type: 'button', 'data-testid': 'decision-approve', onclick: () => decide('approve') }, 'Approve'),
        el('button', { type: 'button', 'data-testid': 'decision-partial', onclick: () => decide('partial') }, 'Grant part'),
        el('button', { type: 'button', 'data-testid': 'decision-deny', onclick: () => decide('deny') }, 'Deny')));
  }));
}

// ------------------------------------------------------------------ Report

function reportQuery() {
  const f = formData($('report-form'));
  const q = new URLSearchParams();
  if (f.from) q.set('from', f.from);
  if (f.to) q.set('to', f.to);
  return q;
}

async function loadReport() {
  const q = reportQuery();
  const report = await api.get(`/api/credits/report?${q}`);
  q.set('format', 'csv');
  $('report-csv').href = `/api/credits/report?${q}`;
  $('report-body').replaceChildren(...report.rows.map((r) => el('tr', { 'data-testid': 'report-row', 'data-area': r.research_area },
    el('td', {}, r.research_area), el('td', { 'data-testid': 'report-requested' }, fmt(r.requested)),
    el('td', { 'data-testid': 'report-granted' }, fmt(r.granted)),
    el('td', {}, r.approval_rate === null ? '—' : `${Math.round(r.approval_rate * 100)} %`),
    el('td', {}, r.median_hours_to_decision === null ? '—' : `${r.median_hours_to_decision.toFixed(1)} h`),
    el('td', { 'data-testid': 'report-used' }, fmt(r.used)),
    el('td', r.underfunded ? { class: 'flag', 'data-testid': 'report-flag' } : {}, r.underfunded ? 'under-funded' : 'ok'),
    el('td', {}, r.top_projects.map((p) => `${p.name} (${fmt(p.used)})`).join(', ')))));
}

$('report-form').addEventListener('submit', (e) => { e.preventDefault(); run(loadReport); });

// ------------------------------------------------------------------ Administration

async function loadAdmin() {
  $('admin-section').hidden = !S.user.is_admin;
  if (!S.user.is_admin) return;
  const prices = await api.get('/api/credits/prices');
  $('price-list').replaceChildren(...prices.current.map((p) =>
    el('li', {}, `${p.unit}${p.model ? ` (${p.model})` : ''}: ${fmt(p.credits)} credits since ${new Date(p.effective_from).toLocaleString()}`)));
  const settings = await api.get('/api/credits/settings');
  $('webhook-form').elements.url.value = settings.alert_webhook_url || '';
}

$('area-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => { await api.post('/api/research-areas', formData(e.target)); e.target.reset(); await refresh(); });
});

$('reviewer-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const f = formData(e.target);
    await api.post(`/api/research-areas/${encodeURIComponent(f.area)}/reviewers`, { user: f.user });
    e.target.elements.user.value = '';
  });
});

$('price-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const f = formData(e.target);
    await api.post('/api/credits/prices', { unit: f.unit, model: f.model, credits: Number(f.credits) });
    await loadAdmin();
  });
});

$('webhook-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => api.put('/api/credits/settings', { alert_webhook_url: e.target.elements.url.value }));
});

// ------------------------------------------------------------------ Boot

async function refresh() {
  await loadAreas();
  await loadProjects();
  if (S.current) await openProject(S.current.id);
  await loadReview();
  await loadReport();
  await loadAdmin();
}

async function boot() {
  const session = await api.get('/api/session');
  api.csrf = session.csrf_token || null;
  if (!session.user) { location.href = '/'; return; }
  S.user = session.user;
  $('credits-user').textContent = S.user.display_name || S.user.email;
  $('credits-main').hidden = false;
  await refresh();
}

run(boot);
