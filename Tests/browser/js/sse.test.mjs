// Unit tests of the event-stream parser used for reply streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSSEParser } from '../../../Sources/ParleyServer/Resources/ui/api.js';

function parseAll(chunks) {
  const events = [];
  const p = createSSEParser((e) => events.push(e));
  for (const c of chunks) p.push(c);
  p.end();
  return events;
}

const stream = 'event: user\ndata: {"id":"u"}\n\nevent: assistant\ndata: {"id":"a"}\n\n: keep-alive\n\n' +
  'event: delta\ndata: {"text":"Hel"}\n\nevent: delta\ndata: {"text":"lo\\n"}\n\nevent: done\ndata: {"id":"a","status":"complete"}\n\n';

test('events in one chunk', () => {
  const ev = parseAll([stream]);
  assert.deepEqual(ev.map((e) => e.event), ['user', 'assistant', 'delta', 'delta', 'done']);
  assert.equal(JSON.parse(ev[3].data).text, 'lo\n');
});

test('any chunking gives the same events (byte-at-a-time, CRLF, CR)', () => {
  const whole = parseAll([stream]);
  assert.deepEqual(parseAll(stream.split('')), whole);
  for (const sep of ['\r\n', '\r']) {
    const s = stream.replace(/\n/g, sep);
    assert.deepEqual(parseAll([s]), whole);
    assert.deepEqual(parseAll(s.split('')), whole);
    assert.deepEqual(parseAll([s.slice(0, 17), s.slice(17, 40), s.slice(40)]), whole);
  }
});

test('multi-line data, default event name, fields without space, unterminated tail dropped', () => {
  const ev = parseAll(['data:a\ndata: b\n\nevent:x\ndata\n\nevent: y\ndata: tail']);
  assert.deepEqual(ev, [{ event: 'message', data: 'a\nb', id: '' }, { event: 'x', data: '', id: '' }]);
});
