// Markdown for model replies, written for this app: no HTML ever passes through. The parser builds a small
// tree of element descriptions ({tag, attrs, kids}) and plain strings; `toDOM` turns it into DOM nodes with
// createElement/createTextNode (so model text is never parsed as HTML), `toHTML` serialises it with escaping
// (used by the unit tests). Raw HTML in the source is shown as text. Links keep only http(s)/mailto/relative
// targets and open with rel="noopener noreferrer".
//
// Blocks: ATX headings, fenced code (``` or ~~~, language label, unclosed fences while streaming), indented
// code, block quotes, ordered/unordered (nested, task) lists, GFM tables, thematic breaks, paragraphs.
// Inline: code spans, **bold**, *italic*, ~~strike~~, [links](url), <autolinks>, bare URLs, hard breaks, escapes.

export function h(tag, attrs, ...kids) {
  return { tag, attrs: attrs || {}, kids: kids.flat().filter((k) => k !== null && k !== undefined && k !== '') };
}

// ---------------------------------------------------------------- URLs

const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** The URL if it is safe to link to (http, https, mailto or a relative reference), else null. */
export function safeUrl(raw) {
  if (typeof raw !== 'string') return null;
  // Browsers ignore ASCII control characters and whitespace inside schemes ("java\tscript:"), so drop them.
  const url = raw.trim().replace(/[\u0000-\u0020\u007f]/g, '');
  if (url === '') return null;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  if (scheme) return SAFE_SCHEMES.has(scheme[1].toLowerCase()) ? url : null;
  // No scheme: a relative reference. A colon before the first / or ? is refused too: it could be read as a scheme
  // by something that decodes entities first ("java&#58;script:").
  const firstSep = url.search(/[/?]/);
  const head = firstSep === -1 ? url : url.slice(0, firstSep);
  if (head.includes(':')) return null;
  return url;
}

function link(href, kids, title) {
  const url = safeUrl(href);
  if (!url) return kids; // unsafe target: keep the text, drop the link
  const attrs = { href: url, target: '_blank', rel: 'noopener noreferrer' };
  if (title) attrs.title = title;
  return [h('a', attrs, kids)];
}

// ---------------------------------------------------------------- Syntax highlighting

// A language-neutral highlighter: strings, numbers, comments and a shared keyword list. It never fails: text it
// does not recognise stays plain.
const KEYWORDS = new Set((
  'abstract and as async await break case catch class const continue def default defer del do elif else enum ' +
  'except export extends false final finally fn for from func function go guard if impl implements import in ' +
  'instanceof interface is lambda let loop match mod module mut namespace new nil none not null or package pass ' +
  'private protected pub public raise return self static struct super switch this throw throws trait true try ' +
  'type typedef typeof undefined union unsafe use using var void where while with yield True False None ' +
  'int float double char bool string void select insert update delete create table where join on values set ' +
  'SELECT INSERT UPDATE DELETE CREATE TABLE FROM WHERE JOIN ON VALUES SET AND OR NOT NULL INTO ORDER BY GROUP ' +
  'echo fi then esac done local'
).split(/\s+/));

// Languages where '#' starts a comment (otherwise '#' is a preprocessor line, a CSS colour, a private field…).
const HASH_COMMENT = new Set(['', 'python', 'py', 'ruby', 'rb', 'sh', 'bash', 'shell', 'zsh', 'console', 'perl',
  'r', 'yaml', 'yml', 'toml', 'ini', 'conf', 'make', 'makefile', 'dockerfile', 'elixir', 'julia', 'nim',
  'powershell', 'ps1', 'text', 'txt', 'plaintext']);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell', 'hs', 'elm', 'ada']);

const TOKEN_RE = /(\/\*[\s\S]*?(?:\*\/|$))|(\/\/[^\n]*)|(#[^\n]*)|(--[^\n]*)|("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|`(?:[^`\\]|\\.)*`?)|(\b(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

/** Highlight code into kids for a <code> element: strings and spans with tok-* classes. */
export function highlight(code, lang) {
  const language = (lang || '').toLowerCase();
  const hash = HASH_COMMENT.has(language);
  const dash = DASH_COMMENT.has(language);
  const slash = !hash || language === ''; // an unknown language gets both kinds of comment
  const out = [];
  let last = 0;
  let plain = '';
  const flush = () => { if (plain) { out.push(plain); plain = ''; } };
  TOKEN_RE.lastIndex = 0;
  let m;
  while ((m = TOKEN_RE.exec(code)) !== null) {
    if (m.index > last) plain += code.slice(last, m.index);
    last = TOKEN_RE.lastIndex;
    const [text, block, line, hashc, dashc, str, num, word] = m;
    let cls = null;
    if (block !== undefined || line !== undefined) {
      // no slash comments in this language, or '//' inside a URL ("https://"): plain
      if (!slash || (line !== undefined && code[m.index - 1] === ':')) {
        TOKEN_RE.lastIndex = m.index + 1; last = m.index + 1; plain += text[0]; continue;
      }
      cls = 'tok-com';
    } else if (hashc !== undefined) {
      const before = m.index === 0 ? '\n' : code[m.index - 1];
      if (hash && /\s/.test(before)) cls = 'tok-com';
      else { TOKEN_RE.lastIndex = m.index + 1; last = m.index + 1; plain += '#'; continue; }
    } else if (dashc !== undefined) {
      if (dash) cls = 'tok-com';
      else { TOKEN_RE.lastIndex = m.index + 1; last = m.index + 1; plain += '-'; continue; }
    } else if (str !== undefined) {
      // an apostrophe in prose-like code ("don't") should not swallow the line; require a closing quote
      if (text.length < 2 || text[text.length - 1] !== text[0]) {
        TOKEN_RE.lastIndex = m.index + 1; last = m.index + 1; plain += text[0]; continue;
      }
      cls = 'tok-str';
    } else if (num !== undefined) cls = 'tok-num';
    else if (word !== undefined) cls = KEYWORDS.has(word) ? 'tok-kw' : null;
    if (cls) { flush(); out.push(h('span', { class: cls }, text)); } else plain += text;
  }
  plain += code.slice(last);
  flush();
  return out;
}

// ---------------------------------------------------------------- Inline

const PUNCT = /[!-/:-@[-`{-~]/;

function findClosing(src, from, delim) {
  // The next run of `delim` that is not preceded by whitespace and not escaped.
  let i = from;
  while (i < src.length) {
    const j = src.indexOf(delim, i);
    if (j === -1) return -1;
    if (j > from && !/\s/.test(src[j - 1]) && src[j - 1] !== '\\') {
      // for single * or _, skip a doubled run (belongs to bold)
      if (delim.length === 1 && src[j + 1] === delim && src[j + 2] !== delim) { i = j + 2; continue; }
      return j;
    }
    i = j + 1;
  }
  return -1;
}

function matchBracket(src, open) {
  // index of the ] matching the [ at `open`, honouring nesting, escapes and code spans
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') { i++; continue; }
    if (c === '`') { const e = src.indexOf('`', i + 1); if (e !== -1) { i = e; continue; } }
    if (c === '[') depth++;
    else if (c === ']') { depth--; if (depth === 0) return i; }
  }
  return -1;
}

function parseLinkTarget(src, pos) {
  // src[pos] === '('; returns {url, title, end} with end after ')', or null
  let i = pos + 1;
  while (src[i] === ' ') i++;
  let url = '';
  if (src[i] === '<') {
    const e = src.indexOf('>', i);
    if (e === -1) return null;
    url = src.slice(i + 1, e);
    i = e + 1;
  } else {
    let depth = 0;
    const start = i;
    for (; i < src.length; i++) {
      const c = src[i];
      if (c === '\\') { i++; continue; }
      if (c === '(') depth++;
      else if (c === ')') { if (depth === 0) break; depth--; } else if (c === ' ' || c === '\n') break;
    }
    url = src.slice(start, i);
  }
  while (src[i] === ' ') i++;
  let title = null;
  if (src[i] === '"' || src[i] === "'") {
    const q = src[i];
    const e = src.indexOf(q, i + 1);
    if (e === -1) return null;
    title = src.slice(i + 1, e);
    i = e + 1;
    while (src[i] === ' ') i++;
  }
  if (src[i] !== ')') return null;
  return { url, title, end: i + 1 };
}

const BARE_URL = /^https?:\/\/[^\s<>"'`]+/;

export function parseInline(src) {
  const out = [];
  let text = '';
  const push = (node) => { if (text) { out.push(text); text = ''; } out.push(node); };
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    // backslash escape / hard break
    if (c === '\\') {
      const n = src[i + 1];
      if (n === '\n') { push(h('br')); i += 2; continue; }
      if (n !== undefined && PUNCT.test(n)) { text += n; i += 2; continue; }
      text += c; i++; continue;
    }
    // hard break: two trailing spaces before a newline
    if (c === ' ' && src.startsWith('  \n', i) ) {
      let j = i; while (src[j] === ' ') j++;
      if (src[j] === '\n') { push(h('br')); i = j + 1; continue; }
    }
    if (c === '`') {
      let run = 1; while (src[i + run] === '`') run++;
      const fence = '`'.repeat(run);
      let j = src.indexOf(fence, i + run);
      while (j !== -1 && src[j + run] === '`') { let k = j; while (src[k] === '`') k++; j = src.indexOf(fence, k); }
      if (j !== -1) {
        let code = src.slice(i + run, j).replace(/\n/g, ' ');
        if (code.length > 2 && code[0] === ' ' && code[code.length - 1] === ' ' && code.trim()) code = code.slice(1, -1);
        push(h('code', {}, code));
        i = j + run;
        continue;
      }
      text += fence; i += run; continue;
    }
    if ((c === '*' || c === '_') && src[i + 1] === c && src[i + 2] === c && src[i + 3] !== c) {
      const d = c + c + c;
      const leftOk = c === '*' || i === 0 || !/[A-Za-z0-9]/.test(src[i - 1]);
      const e = leftOk && src[i + 3] !== ' ' ? findClosing(src, i + 3, d) : -1;
      if (e !== -1 && e > i + 3) { push(h('strong', {}, h('em', {}, parseInline(src.slice(i + 3, e))))); i = e + 3; continue; }
    }
    if ((c === '*' || c === '_') && src[i + 1] === c && src[i + 2] !== ' ' && src[i + 2] !== undefined) {
      const d = c + c;
      const leftOk = c === '*' || i === 0 || !/[A-Za-z0-9]/.test(src[i - 1]);
      const e = leftOk ? findClosing(src, i + 2, d) : -1;
      if (e !== -1 && e > i + 2) { push(h('strong', {}, parseInline(src.slice(i + 2, e)))); i = e + 2; continue; }
    }
    if ((c === '*' || c === '_') && src[i + 1] !== ' ' && src[i + 1] !== undefined && src[i + 1] !== c) {
      const leftOk = c === '*' || i === 0 || !/[A-Za-z0-9]/.test(src[i - 1]);
      const e = leftOk ? findClosing(src, i + 1, c) : -1;
      const rightOk = e !== -1 && (c === '*' || !/[A-Za-z0-9]/.test(src[e + 1] || ''));
      if (e !== -1 && rightOk && e > i + 1) { push(h('em', {}, parseInline(src.slice(i + 1, e)))); i = e + 1; continue; }
    }
    if (c === '~' && src[i + 1] === '~') {
      const e = findClosing(src, i + 2, '~~');
      if (e !== -1 && e > i + 2) { push(h('del', {}, parseInline(src.slice(i + 2, e)))); i = e + 2; continue; }
    }
    if (c === '!' && src[i + 1] === '[') {
      // images are not loaded (privacy, CSP): shown as a link with their alt text
      const close = matchBracket(src, i + 1);
      if (close !== -1 && src[close + 1] === '(') {
        const t = parseLinkTarget(src, close + 1);
        if (t) {
          const alt = src.slice(i + 2, close) || t.url;
          const kids = link(t.url, [`[image: ${alt}]`], t.title);
          if (text) { out.push(text); text = ''; }
          out.push(...kids);
          i = t.end; continue;
        }
      }
    }
    if (c === '[') {
      const close = matchBracket(src, i);
      if (close !== -1 && src[close + 1] === '(') {
        const t = parseLinkTarget(src, close + 1);
        if (t) {
          const kids = link(t.url, parseInline(src.slice(i + 1, close)), t.title);
          if (text) { out.push(text); text = ''; }
          out.push(...kids);
          i = t.end; continue;
        }
      }
    }
    if (c === '<') {
      const m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(src.slice(i));
      if (m) {
        const kids = link(m[1], [m[1]]);
        if (text) { out.push(text); text = ''; }
        out.push(...kids);
        i += m[0].length; continue;
      }
    }
    if ((c === 'h') && (i === 0 || /[\s(*_~]/.test(src[i - 1]))) {
      const m = BARE_URL.exec(src.slice(i));
      if (m) {
        let url = m[0];
        // trailing punctuation belongs to the sentence; a closing paren only if unbalanced
        while (/[.,:;!?]$/.test(url) || (url.endsWith(')') && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length)) url = url.slice(0, -1);
        const kids = link(url, [url]);
        if (text) { out.push(text); text = ''; }
        out.push(...kids);
        i += url.length; continue;
      }
    }
    text += c;
    i++;
  }
  if (text) out.push(text);
  return out;
}

// ---------------------------------------------------------------- Blocks

const FENCE_RE = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING_RE = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const HR_RE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE_RE = /^ {0,3}> ?(.*)$/;
const LIST_RE = /^( *)([-*+]|\d{1,9}[.)])([ \t]+(.*)|$)/;
const TABLE_SEP_RE = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

function isBlank(line) { return /^\s*$/.test(line); }

function splitRow(line) {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells = [];
  let cur = '';
  let inCode = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && s[i + 1] === '|') { cur += '|'; i++; continue; }
    if (c === '`') inCode = !inCode;
    if (c === '|' && !inCode) { cells.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  cells.push(cur.trim());
  return cells;
}

function startsBlock(line, next) {
  return FENCE_RE.test(line) || HEADING_RE.test(line) || HR_RE.test(line) || QUOTE_RE.test(line) ||
    (LIST_RE.test(line) && !isBlank(line.replace(LIST_RE, '$4'))) ||
    (line.includes('|') && next !== undefined && TABLE_SEP_RE.test(next) && next.includes('-'));
}

function codeBlock(code, lang) {
  const label = lang || 'text';
  return h('div', { class: 'code-block' },
    h('div', { class: 'code-head' },
      h('span', { class: 'code-lang', 'data-testid': 'code-lang' }, label),
      h('button', { type: 'button', class: 'copy-code', 'data-action': 'copy-code', 'data-testid': 'copy-code',
        'aria-label': `Copy ${label} code` }, 'Copy')),
    h('pre', {}, h('code', { class: lang ? `language-${lang.replace(/[^\w+#.-]/g, '')}` : '' }, highlight(code, lang))));
}

function parseBlocks(lines) {
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) { i++; continue; }

    let m = FENCE_RE.exec(line);
    if (m) {
      const indent = m[1].length;
      const fence = m[2];
      const lang = m[3] || '';
      const body = [];
      i++;
      while (i < lines.length) {
        const l = lines[i];
        const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
        if (close.test(l)) { i++; break; }
        body.push(indent ? l.replace(new RegExp(`^ {0,${indent}}`), '') : l);
        i++;
      }
      out.push(codeBlock(body.join('\n'), lang));
      continue;
    }

    m = HEADING_RE.exec(line);
    if (m) {
      out.push(h(`h${m[1].length}`, {}, parseInline(m[2] || '')));
      i++; continue;
    }

    if (HR_RE.test(line)) { out.push(h('hr')); i++; continue; }

    if (QUOTE_RE.test(line)) {
      const body = [];
      while (i < lines.length && !isBlank(lines[i])) {
        const q = QUOTE_RE.exec(lines[i]);
        if (q) body.push(q[1]);
        else if (body.length && !startsBlock(lines[i], lines[i + 1])) body.push(lines[i]); // lazy continuation
        else break;
        i++;
      }
      out.push(h('blockquote', {}, parseBlocks(body)));
      continue;
    }

    m = LIST_RE.exec(line);
    if (m) {
      const [list, next] = parseList(lines, i);
      out.push(list);
      i = next;
      continue;
    }

    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP_RE.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      const head = splitRow(line);
      const aligns = splitRow(lines[i + 1]).map((s) => {
        const l = s.startsWith(':'); const r = s.endsWith(':');
        return l && r ? 'center' : r ? 'right' : l ? 'left' : null;
      });
      i += 2;
      const rows = [];
      while (i < lines.length && !isBlank(lines[i]) && lines[i].includes('|')) { rows.push(splitRow(lines[i])); i++; }
      const cell = (tag, text, k) => h(tag, aligns[k] ? { class: `align-${aligns[k]}` } : {}, parseInline(text || ''));
      out.push(h('div', { class: 'table-wrap' },
        h('table', {},
          h('thead', {}, h('tr', {}, head.map((t, k) => cell('th', t, k)))),
          rows.length ? h('tbody', {}, rows.map((r) => h('tr', {}, head.map((_, k) => cell('td', r[k], k))))) : null)));
      continue;
    }

    // indented code (4 spaces) only when not continuing a paragraph
    if (/^( {4}|\t)/.test(line)) {
      const body = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || (isBlank(lines[i]) && i + 1 < lines.length && /^( {4}|\t)/.test(lines[i + 1])))) {
        body.push(lines[i].replace(/^( {4}|\t)/, ''));
        i++;
      }
      out.push(codeBlock(body.join('\n'), ''));
      continue;
    }

    const para = [line];
    i++;
    while (i < lines.length && !isBlank(lines[i]) && !startsBlock(lines[i], lines[i + 1])) { para.push(lines[i]); i++; }
    out.push(h('p', {}, parseInline(para.map((l) => l.replace(/^ +/, '')).join('\n').replace(/\s+$/, ''))));
  }
  return out;
}

function parseList(lines, start) {
  const first = LIST_RE.exec(lines[start]);
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const marker = first[2].slice(-1);
  const items = [];
  let i = start;
  let loose = false;
  while (i < lines.length) {
    const m = LIST_RE.exec(lines[i]);
    if (!m || m[1].length !== baseIndent || /\d/.test(m[2]) !== ordered || m[2].slice(-1) !== marker) break;
    const contentIndent = m[1].length + m[2].length + Math.max(1, Math.min(4, (m[3].length - (m[4] || '').length) || 1));
    const body = [m[4] || ''];
    i++;
    let sawBlank = false;
    while (i < lines.length) {
      const l = lines[i];
      if (isBlank(l)) {
        // a blank line continues the item only if more indented content follows
        let j = i; while (j < lines.length && isBlank(lines[j])) j++;
        if (j < lines.length && (lines[j].length - lines[j].trimStart().length) >= contentIndent) {
          for (let k = i; k < j; k++) body.push('');
          sawBlank = true; i = j; continue;
        }
        break;
      }
      const ind = l.length - l.trimStart().length;
      if (ind >= contentIndent) { body.push(l.slice(Math.min(ind, contentIndent))); i++; continue; }
      const lm = LIST_RE.exec(l);
      if (lm && lm[1].length <= baseIndent) break; // sibling item or outer list
      if (lm && lm[1].length > baseIndent) { body.push(l.slice(Math.min(ind, contentIndent))); i++; continue; } // loosely indented nested list
      if (sawBlank || startsBlock(l, lines[i + 1])) break;
      body.push(l.trimStart()); // lazy continuation of the item's paragraph
      i++;
    }
    if (sawBlank) loose = true;
    items.push(body);
    // a blank line between items makes the list loose
    if (i < lines.length && isBlank(lines[i])) {
      let j = i; while (j < lines.length && isBlank(lines[j])) j++;
      const nm = j < lines.length ? LIST_RE.exec(lines[j]) : null;
      if (nm && nm[1].length === baseIndent && /\d/.test(nm[2]) === ordered && nm[2].slice(-1) === marker) { loose = true; i = j; continue; }
      break;
    }
  }
  const lis = items.map((body) => {
    let task = null;
    const tm = /^\[([ xX])\][ \t]+/.exec(body[0]);
    if (tm) { task = tm[1] !== ' '; body = [body[0].slice(tm[0].length), ...body.slice(1)]; }
    let kids = parseBlocks(body);
    // tight lists: paragraphs render as bare text
    if (!loose) kids = kids.flatMap((k) => (k.tag === 'p' ? k.kids : [k]));
    if (task !== null) {
      kids.unshift(h('input', { type: 'checkbox', disabled: '', ...(task ? { checked: '' } : {}), 'aria-label': task ? 'done' : 'not done' }), ' ');
      return h('li', { class: 'task' }, kids);
    }
    return h('li', {}, kids);
  });
  const attrs = {};
  if (ordered) {
    const n = parseInt(first[2], 10);
    if (n !== 1) attrs.start = String(n);
  }
  return [h(ordered ? 'ol' : 'ul', attrs, lis), i];
}

/** Parse Markdown into a list of nodes (element descriptions and strings). */
export function parseMarkdown(src) {
  const text = String(src ?? '').replace(/\r\n?/g, '\n').replace(/\u0000/g, '\uFFFD');
  return parseBlocks(text.split('\n'));
}

// ---------------------------------------------------------------- Output

const VOID = new Set(['br', 'hr', 'input']);

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** Serialise nodes to an HTML string, escaping all text and attribute values. */
export function toHTML(nodes) {
  return nodes.map((n) => {
    if (typeof n === 'string') return escapeHTML(n);
    const attrs = Object.entries(n.attrs).map(([k, v]) => (v === '' ? ` ${k}` : ` ${k}="${escapeHTML(v)}"`)).join('');
    if (VOID.has(n.tag)) return `<${n.tag}${attrs}>`;
    return `<${n.tag}${attrs}>${toHTML(n.kids)}</${n.tag}>`;
  }).join('');
}

/** Build DOM nodes (text through createTextNode only) into a DocumentFragment. */
export function toDOM(nodes, doc = document) {
  const frag = doc.createDocumentFragment();
  for (const n of nodes) {
    if (typeof n === 'string') { frag.appendChild(doc.createTextNode(n)); continue; }
    const el = doc.createElement(n.tag);
    for (const [k, v] of Object.entries(n.attrs)) el.setAttribute(k, v);
    if (!VOID.has(n.tag)) el.appendChild(toDOM(n.kids, doc));
    frag.appendChild(el);
  }
  return frag;
}

/** Render Markdown into `container`, replacing its children. */
export function renderMarkdown(container, src) {
  container.replaceChildren(toDOM(parseMarkdown(src), container.ownerDocument));
}

/** Plain text of a node list (for tests and copy). */
export function textOf(nodes) {
  return nodes.map((n) => (typeof n === 'string' ? n : textOf(n.kids))).join('');
}
