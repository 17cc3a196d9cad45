// The /api client: JSON requests with the session's CSRF token on every state-changing call, errors as
// ApiError (never swallowed), and reply streams (text/event-stream over a fetch POST, parsed here because
// EventSource cannot POST).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `Request failed (${status})`);
    this.status = status;
    this.code = code || 'http_' + status;
  }
}

/**
 * An incremental parser for the text/event-stream format (WHATWG HTML §9.2): feed it decoded text in any
 * chunking; it calls onEvent({event, data, id}) for each complete event. `data` lines are joined with "\n";
 * comment lines (":…") are ignored; a missing event name is "message".
 */
export function createSSEParser(onEvent) {
  let buffer = '';
  let event = '';
  let data = [];
  let id = '';
  let sawCR = false;

  function line(l) {
    if (l === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n'), id });
      event = ''; data = [];
      return;
    }
    if (l[0] === ':') return;
    const colon = l.indexOf(':');
    const field = colon === -1 ? l : l.slice(0, colon);
    let value = colon === -1 ? '' : l.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  return {
    push(text) {
      let s = text;
      // a CR at the end of the previous chunk followed by LF here is one line break
      if (sawCR && s[0] === '\n') s = s.slice(1);
      sawCR = false;
      buffer += s;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i];
        if (c === '\n' || c === '\r') {
          line(buffer.slice(start, i));
          if (c === '\r') {
            if (i + 1 === buffer.length) sawCR = true;
            else if (buffer[i + 1] === '\n') i++;
          }
          start = i + 1;
        }
      }
      buffer = buffer.slice(start);
    },
    /** End of stream: an event without its final blank line is dropped, as the spec says. */
    end() { buffer = ''; event = ''; data = []; },
  };
}

export class Api {
  constructor({ base = '', onUnauthorized = () => {} } = {}) {
    this.base = base;
    this.csrf = null;
    this.onUnauthorized = onUnauthorized;
  }

  headers(method, body) {
    const h = { Accept: 'application/json' };
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD' && this.csrf) h['X-CSRF-Token'] = this.csrf;
    return h;
  }

  async request(method, path, body, { signal, accept } = {}) {
    let res;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { ...this.headers(method, body), ...(accept ? { Accept: accept } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal,
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', `Cannot reach the server (${e.message})`);
    }
    if (!res.ok) throw await this.errorFrom(res);
    return res;
  }

  async errorFrom(res) {
    let code = null;
    let message = null;
    try {
      const j = await res.json();
      if (j && j.error) { code = j.error.code; message = j.error.message; }
    } catch { /* not JSON */ }
    if (res.status === 401 && !(message || '').match(/password|credential/i)) this.onUnauthorized();
    if (res.status === 429) {
      const after = res.headers.get('Retry-After');
      message = (message || 'Too many attempts') + (after ? ` — try again in ${after} s` : '');
    }
    return new ApiError(res.status, code, message || `${res.status} ${res.statusText}`.trim());
  }

  async json(method, path, body) {
    const res = await this.request(method, path, body);
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  get(path) { return this.json('GET', path); }
  post(path, body) { return this.json('POST', path, body); }
  put(path, body) { return this.json('PUT', path, body); }
  patch(path, body) { return this.json('PATCH', path, body); }
  del(path) { return this.json('DELETE', path); }

  /**
   * POST that answers with an event stream; calls onEvent(name, payload) for each event with its JSON data.
   * Resolves when the stream ends; rejects with AbortError when `signal` aborts.
   */
  async stream(path, body, onEvent, signal) {
    const res = await this.request('POST', path, body, { signal, accept: 'text/event-stream' });
    const type = res.headers.get('Content-Type') || '';
    if (!type.includes('text/event-stream')) {
      throw new ApiError(res.status, 'bad_stream', `Expected an event stream, got ${type || 'no content type'}`);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let failure = null;
    const parser = createSSEParser(({ event, data }) => {
      if (failure) return;
      let payload;
      try { payload = JSON.parse(data); } catch { payload = { raw: data }; }
      try { onEvent(event, payload); } catch (e) { failure = e; }
    });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        if (failure) throw failure;
      }
      parser.push(decoder.decode());
      parser.end();
    } finally {
      reader.releaseLock?.();
    }
    if (failure) throw failure;
  }
}
