// Unit tests of the Markdown renderer (node --test): structure, escaping and link safety.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMarkdown, toHTML, safeUrl, highlight, textOf } from '../../../Sources/ParleyServer/Resources/ui/markdown.js';

const html = (s) => toHTML(parseMarkdown(s));

test('headings, emphasis, inline code', () => {
  assert.equal(html('# Title'), '<h1>Title</h1>');
  assert.equal(html('### Three ###'), '<h3>Three</h3>');
  assert.equal(html('some **bold** and *it* and _it2_ and `x < y`'),
    '<p>some <strong>bold</strong> and <em>it</em> and <em>it2</em> and <code>x &lt; y</code></p>');
  assert.equal(html('~~gone~~ ***both***'), '<p><del>gone</del> <strong><em>both</em></strong></p>');
  assert.equal(html('snake_case_name stays'), '<p>snake_case_name stays</p>');
  assert.equal(html('2 * 3 * 4'), '<p>2 * 3 * 4</p>');
  assert.equal(html('\\*not em\\*'), '<p>*not em*</p>');
  assert.equal(html('``a ` b``'), '<p><code>a ` b</code></p>');
});

test('raw HTML and attribute-breaking text are escaped', () => {
  assert.equal(html('<script>alert(1)</script>'), '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  assert.equal(html('<img src=x onerror=alert(1)>'), '<p>&lt;img src=x onerror=alert(1)&gt;</p>');
  const out = html('[x](http://a.example/"onmouseover="alert(1))');
  assert.ok(!out.includes('"onmouseover'), out);
  assert.ok(out.includes('&quot;onmouseover=&quot;'), out);
  assert.equal(html('```html\n<b>hi</b>\n```').includes('&lt;b&gt;hi&lt;/b&gt;'), true);
  assert.equal(html('| <i>a</i> | b |\n|---|---|\n| c | d |').includes('&lt;i&gt;a&lt;/i&gt;'), true);
});

test('links: safe schemes only, rel=noopener, new tab', () => {
  assert.equal(html('[site](https://example.com/a?b=1 "T")'),
    '<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer" title="T">site</a></p>');
  assert.equal(html('[x](javascript:alert(1))'), '<p>x</p>');
  assert.equal(html('[x](JaVa\tScRiPt:alert(1))'), '<p>x</p>');
  assert.equal(html('[x](data:text/html;base64,PHNjcmlwdD4=)'), '<p>x</p>');
  assert.equal(html('<javascript:alert(1)>'), '<p>&lt;javascript:alert(1)&gt;</p>');
  assert.equal(html('see https://example.com/x.'),
    '<p>see <a href="https://example.com/x" target="_blank" rel="noopener noreferrer">https://example.com/x</a>.</p>');
  assert.equal(html('![alt](javascript:x)'), '<p>[image: alt]</p>');
  assert.equal(safeUrl('/relative/path'), '/relative/path');
  assert.equal(safeUrl('#frag'), '#frag');
  assert.equal(safeUrl('mailto:a@b.c'), 'mailto:a@b.c');
  assert.equal(safeUrl('vbscript:x'), null);
  assert.equal(safeUrl(' \u0001javascript:x'), null);
  assert.equal(safeUrl('java&#58;script:x'), null);
});

test('fenced code: language label, copy button, highlighting, unclosed fence while streaming', () => {
  const nodes = parseMarkdown('```python\n# note\nx = "s" + 42\nif x: pass\n```\nafter');
  const block = nodes[0];
  assert.equal(block.attrs.class, 'code-block');
  const out = toHTML([block]);
  assert.ok(out.includes('<span class="code-lang" data-testid="code-lang">python</span>'), out);
  assert.ok(out.includes('data-action="copy-code"'), out);
  assert.ok(out.includes('<span class="tok-com"># note</span>'), out);
  assert.ok(out.includes('<span class="tok-str">&quot;s&quot;</span>'), out);
  assert.ok(out.includes('<span class="tok-num">42</span>'), out);
  assert.ok(out.includes('<span class="tok-kw">if</span>'), out);
  assert.equal(toHTML([nodes[1]]), '<p>after</p>');
  const open = parseMarkdown('text\n\n```js\nconst a = 1;');
  assert.equal(open.length, 2);
  assert.ok(toHTML(open).includes('<span class="tok-kw">const</span> a = <span class="tok-num">1</span>;'));
  assert.equal(textOf(highlight('a // b', 'js')), 'a // b');
});

test('highlighter: comment syntax depends on the language; URLs and apostrophes stay plain', () => {
  assert.ok(toHTML(highlight('#include <x>', 'c')).startsWith('#<span class="tok-kw">include</span>') ||
    !toHTML(highlight('#include <x>', 'c')).includes('tok-com'));
  assert.ok(!toHTML(highlight('curl https://example.com', 'sh')).includes('tok-com'));
  assert.ok(!toHTML(highlight('url = "x" // https://a.b', 'js')).includes('https:<span'));
  assert.ok(toHTML(highlight('-- note\nSELECT 1', 'sql')).includes('<span class="tok-com">-- note</span>'));
  assert.ok(!toHTML(highlight("don't stop", '')).includes('tok-str'));
  assert.ok(toHTML(highlight('/* a\nb */ x', 'c')).includes('<span class="tok-com">/* a\nb */</span>'));
});

test('lists: nesting, ordered start, tasks, loose items', () => {
  assert.equal(html('- a\n- b\n  - c\n- d'), '<ul><li>a</li><li>b<ul><li>c</li></ul></li><li>d</li></ul>');
  assert.equal(html('3. x\n4. y'), '<ol start="3"><li>x</li><li>y</li></ol>');
  assert.equal(html('1. one\n\n2. two'), '<ol><li><p>one</p></li><li><p>two</p></li></ol>');
  assert.ok(html('- [x] done\n- [ ] todo').includes('<input type="checkbox" disabled checked'));
  assert.equal(html('* a\ncontinued'), '<ul><li>a\ncontinued</li></ul>');
  assert.equal(html('para\n- item'), '<p>para</p><ul><li>item</li></ul>');
});

test('tables with alignment, blockquotes, rules, breaks', () => {
  assert.equal(html('| a | b |\n|:--|--:|\n| 1 | **2** |'),
    '<div class="table-wrap"><table><thead><tr><th class="align-left">a</th><th class="align-right">b</th></tr></thead>' +
    '<tbody><tr><td class="align-left">1</td><td class="align-right"><strong>2</strong></td></tr></tbody></table></div>');
  assert.equal(html('> quoted **x**\n> more'), '<blockquote><p>quoted <strong>x</strong>\nmore</p></blockquote>');
  assert.equal(html('> # h\n> - l'), '<blockquote><h1>h</h1><ul><li>l</li></ul></blockquote>');
  assert.equal(html('a\n\n---\n\nb'), '<p>a</p><hr><p>b</p>');
  assert.equal(html('line one  \nline two'), '<p>line one<br>line two</p>');
  assert.equal(html('a | b'), '<p>a | b</p>');
});

test('never throws on odd input', () => {
  const inputs = ['', '*', '**', '[', '[](', '```', '|', '|-|', '> ', '- ', '1.', '`', '~~~', '#', '\\', '\r\n\r\n', '\u0000'];
  for (const s of inputs) assert.equal(typeof html(s), 'string', JSON.stringify(s));
  let chars = '*_`[]()!<>#|-~\\ \nabc:/"\'';
  let seed = 7;
  for (let n = 0; n < 3000; n++) {
    let s = '';
    const len = (seed = (seed * 1103515245 + 12345) % 2147483648) % 40;
    for (let k = 0; k < len; k++) s += chars[(seed = (seed * 1103515245 + 12345) % 2147483648) % chars.length];
    const out = html(s);
    assert.ok(!/<(?!\/?(p|h[1-6]|strong|em|del|code|pre|a|ul|ol|li|blockquote|hr|br|table|thead|tbody|tr|th|td|div|span|button|input)\b)/.test(out), s + ' => ' + out);
  }
});
