// The arena page (/ui/arena.html): a prompt goes to two anonymous models whose answers stream side by side; the
// user votes and only then sees who answered; the leaderboard shows Bradley–Terry ratings with their intervals
// and benchmark figures. Admins configure OpenAI-compatible providers here too.
import { Api } from './api.js';

const api = new Api({ onUnauthorized: () => { location.href = '/'; } });
const $ = (id) => document.getElementById(id);
const S = { user: null, battle: null, busy: false };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return node;
}

function showError(err) {
  const box = $('arena-error');
  box.textContent = err ? (err.message || String(err)) : '';
  box.hidden = !err;
}

async function run(action) {
  showError(null);
  try { await action(); } catch (err) { showError(err); }
}

const WINNER_TEXT = { a: 'You preferred A.', b: 'You preferred B.', tie: 'You called it a tie.', both_bad: 'You found both bad.' };

// ------------------------------------------------------------------ Battle

async function compare(prompt) {
  S.busy = true;
  $('arena-send').disabled = true;
  $('arena-votes').hidden = true;
  $('arena-result').hidden = true;
  $('arena-pair').hidden = false;
  for (const side of ['a', 'b']) {
    $(`answer-${side}`).textContent = '';
    $(`answer-${side}`).classList.remove('failed');
    $(`model-${side}-name`).textContent = '';
  }
  $('arena-status').textContent = 'Both models are answering…';
  S.battle = null;
  try {
    await api.stream('/api/arena/battles', { prompt }, (event, data) => {
      if (event === 'battle') S.battle = data.id;
      else if (event === 'delta') $(`answer-${data.side}`).textContent += data.text;
      else if (event === 'end' && data.error) {
        const box = $(`answer-${data.side}`);
        box.classList.add('failed');
        box.textContent += (box.textContent ? '\n' : '') + `(failed: ${data.error})`;
      }
    });
    $('arena-status').textContent = 'Which answer is better?';
    $('arena-votes').hidden = !S.battle;
    for (const b of $('arena-votes').querySelectorAll('button')) b.disabled = false;
  } finally {
    S.busy = false;
    $('arena-send').disabled = false;
  }
}

async function vote(winner) {
  if (!S.battle) return;
  for (const b of $('arena-votes').querySelectorAll('button')) b.disabled = true;
  const battle = await api.post(`/api/arena/battles/${encodeURIComponent(S.battle)}/vote`, { winner });
  $('model-a-name').textContent = battle.model_a;
  $('model-b-name').textContent = battle.model_b;
  $('arena-votes').hidden = true;
  $('arena-status').textContent = '';
  const result = $('arena-result');
  result.textContent = `${WINNER_TEXT[winner]} A was ${battle.model_a}, B was ${battle.model_b}.`;
  result.hidden = false;
  S.battle = null;
  await loadLeaderboard();
}

// ------------------------------------------------------------------ Leaderboard

function fixed(x) { return Number(x).toFixed(0); }

async function loadLeaderboard() {
  const board = await api.get('/api/arena/leaderboard');
  $('leaderboard-method').textContent = `${board.votes} vote${board.votes === 1 ? '' : 's'}. ${board.method}.`;
  $('leaderboard-body').replaceChildren(...board.ratings.map((r, i) => el('tr', { 'data-testid': 'leaderboard-row', 'data-model': r.model },
    el('td', { class: 'num' }, String(i + 1)),
    el('td', { 'data-testid': 'leaderboard-model' }, r.model),
    el('td', { class: 'num', 'data-testid': 'leaderboard-rating' }, fixed(r.rating)),
    el('td', { class: 'num ci' }, `${fixed(r.low)} – ${fixed(r.high)}`),
    el('td', { class: 'num', 'data-testid': 'leaderboard-battles' }, String(r.battles)),
    el('td', { class: 'num' }, `${r.wins} / ${r.losses} / ${r.ties}`))));
  $('evals-body').replaceChildren(...board.eval_results.map((e) => el('tr', { 'data-testid': 'eval-row' },
    el('td', {}, e.task), el('td', {}, e.model), el('td', {}, e.metric),
    el('td', { class: 'num' }, Number(e.value).toFixed(1)), el('td', { class: 'num' }, String(e.n)), el('td', {}, e.method || '—'))));
}

// ------------------------------------------------------------------ Providers (admins)

async function loadProviders() {
  const { providers } = await api.get('/api/providers');
  $('providers-list').replaceChildren(...providers.map((p) => el('li', { 'data-testid': 'provider-row' },
    `${p.name} — ${p.base_url} — ${p.models.join(', ')} — ${p.has_key ? 'key set' : 'no key'} `,
    el('button', { type: 'button', class: 'link', 'data-testid': 'provider-delete',
      onclick: () => run(async () => { await api.del(`/api/providers/${encodeURIComponent(p.id)}`); await loadProviders(); await loadLeaderboard(); }) }, 'Remove'))));
}

// ------------------------------------------------------------------ Start

async function start() {
  const session = await api.get('/api/session');
  api.csrf = session.csrf_token || null;
  if (!session.user) { location.href = '/'; return; }
  S.user = session.user;
  $('arena-user').textContent = session.user.display_name || session.user.email;
  $('arena-main').hidden = false;
  $('arena-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const prompt = $('arena-prompt').value.trim();
    if (!prompt || S.busy) return;
    run(() => compare(prompt));
  });
  for (const b of $('arena-votes').querySelectorAll('button')) {
    b.addEventListener('click', () => run(() => vote(b.dataset.winner)));
  }
  if (session.user.is_admin) {
    $('providers-section').hidden = false;
    $('evals-form').hidden = false;
    $('evals-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const form = e.target;
      const data = Object.fromEntries(new FormData(form).entries());
      run(async () => {
        const results = data.results.split('\n').map((l) => l.trim()).filter(Boolean).map((line, i) => {
          try { return JSON.parse(line); } catch { throw new Error(`Line ${i + 1} is not JSON`); }
        });
        await api.post('/api/arena/eval-results', { model: data.model, results });
        form.reset();
        await loadLeaderboard();
      });
    });
    $('provider-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const form = e.target;
      const data = Object.fromEntries(new FormData(form).entries());
      const body = { name: data.name, base_url: data.base_url, models: data.models.split(',').map((s) => s.trim()).filter(Boolean) };
      if (data.api_key) body.api_key = data.api_key;
      run(async () => { await api.post('/api/providers', body); form.reset(); await loadProviders(); await loadLeaderboard(); });
    });
    await loadProviders();
  }
  await loadLeaderboard();
}

run(start);
