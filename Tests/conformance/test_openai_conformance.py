"""OpenAI API conformance of `parley serve`, exercised with the official `openai` Python package.

Run by scripts/conformance.sh, which starts the server (loopback, --api-key, small --ctx/--queue/--max-body)
and sets PARLEY_URL, PARLEY_MODEL and PARLEY_API_KEY.
"""
import concurrent.futures
import json
import os
import time

import http.client
import urllib.parse

import openai
import pytest

URL = os.environ["PARLEY_URL"]  # e.g. http://127.0.0.1:18080
MODEL = os.environ["PARLEY_MODEL"]
KEY = os.environ["PARLEY_API_KEY"]
CTX = int(os.environ.get("PARLEY_CTX", "1024"))

assert URL.startswith("http://127.0.0.1:"), "the conformance suite talks to loopback only"


def client(**kw):
    return openai.OpenAI(base_url=URL + "/v1", api_key=KEY, max_retries=0, timeout=120, **kw)


def ask(text, **kw):
    return client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": text}], **kw)


class Raw:
    """A plain HTTP response (standard library only)."""

    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.content = status, headers, body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def raw(method, path, body=None, headers=None, auth=True, timeout=120):
    u = urllib.parse.urlparse(URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    if auth:
        h["Authorization"] = f"Bearer {KEY}"
    h.update(headers or {})
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return Raw(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def raw_post(path, body, headers=None):
    return raw("POST", path, body, headers)


def assert_error_shape(resp, status, param=None):
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str)
    assert "param" in err and "code" in err
    if param is not None:
        assert err["param"] == param


def test_health_and_models():
    assert raw("GET", "/health", auth=False).status_code == 200
    models = client().models.list()
    assert MODEL in [m.id for m in models.data]
    assert client().models.retrieve(MODEL).id == MODEL


def test_chat_non_stream():
    r = ask("What is the capital of France?", max_tokens=24, temperature=0)
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0 and 0 < r.usage.completion_tokens <= 24
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_stream_with_usage():
    stream = client().chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a fruit."}],
        max_tokens=16, temperature=0, stream=True, stream_options={"include_usage": True})
    text, finishes, usage = "", [], None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                text += c.delta.content
            if c.finish_reason:
                finishes.append(c.finish_reason)
    assert text
    assert len(finishes) == 1
    assert usage is not None and usage.completion_tokens > 0
    # The streamed text is what the same request returns whole.
    whole = client().chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a fruit."}],
        max_tokens=16, temperature=0)
    assert whole.choices[0].message.content == text


def test_stop_strings():
    r = ask("Count from 1 to 10, separated by commas.", max_tokens=40, temperature=0, stop=[","])
    assert "," not in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"


def test_seed_reproducibility():
    kw = dict(max_tokens=24, temperature=1.0, top_p=0.95, seed=4242)
    a = ask("Write a short poem about the sea.", **kw).choices[0].message.content
    b = ask("Write a short poem about the sea.", **kw).choices[0].message.content
    assert a == b


def test_logprobs():
    r = ask("Say yes.", max_tokens=4, temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for item in content:
        assert item.logprob <= 0
        assert len(item.top_logprobs) == 3
        assert item.top_logprobs[0].logprob >= item.top_logprobs[-1].logprob


def test_penalties_and_user_accepted():
    r = ask("List animals.", max_tokens=12, temperature=0, presence_penalty=1.0, frequency_penalty=0.5, user="tester")
    assert r.choices[0].message.content


def test_json_schema_output_parses_and_validates():
    schema = {"type": "object",
              "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                             "species": {"enum": ["dog", "cat"]}, "vaccinated": {"type": "boolean"}},
              "required": ["name", "age", "species", "vaccinated"]}
    r = ask("Describe a pet as JSON.", max_tokens=120, temperature=0,
            response_format={"type": "json_schema", "json_schema": {"name": "pet", "schema": schema, "strict": True}})
    value = json.loads(r.choices[0].message.content)
    assert isinstance(value["name"], str)
    assert isinstance(value["age"], int)
    assert value["species"] in ("dog", "cat")
    assert isinstance(value["vaccinated"], bool)


def test_json_object_output_parses():
    r = ask("Give me a JSON object describing a book.", max_tokens=120, temperature=0.7, seed=7,
            response_format={"type": "json_object"})
    assert isinstance(json.loads(r.choices[0].message.content), dict)


def test_unsupported_schema_is_rejected_naming_the_param():
    with pytest.raises(openai.BadRequestError) as e:
        ask("x", response_format={"type": "json_schema",
                                  "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "^a"}}})
    assert e.value.body["param"] == "response_format.json_schema.schema"


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                     "unit": {"enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"]}}}]


def test_tool_calls():
    r = ask("What is the weather in Paris?", max_tokens=80, temperature=0, tools=TOOLS, tool_choice="required")
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args["city"], str) and args["unit"] in ("celsius", "fahrenheit")


def test_tool_calls_streamed():
    stream = client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Weather in Rome?"}], max_tokens=80, temperature=0,
        tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}}, stream=True)
    name, args, finish = None, "", None
    for chunk in stream:
        for c in chunk.choices:
            for tc in c.delta.tool_calls or []:
                assert tc.index == 0
                if tc.function.name:
                    name = tc.function.name
                if tc.function.arguments:
                    args += tc.function.arguments
            finish = c.finish_reason or finish
    assert name == "get_weather"
    assert finish == "tool_calls"
    assert isinstance(json.loads(args)["city"], str)


def test_tool_call_conversation_round_trip():
    messages = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
            "name": "get_weather", "arguments": json.dumps({"city": "Paris", "unit": "celsius"})}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees and sunny"},
    ]
    r = client().chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, tool_choice="none",
                                         max_tokens=30, temperature=0)
    assert r.choices[0].message.content


def test_completions_text_tokens_echo_logprobs():
    c = client()
    r = c.completions.create(model=MODEL, prompt="The quick brown fox", max_tokens=6, temperature=0, echo=True, logprobs=2)
    assert r.choices[0].text.startswith("The quick brown fox")
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs)
    ids = c.completions.create(model=MODEL, prompt=[504, 2365, 6354], max_tokens=3, temperature=0)
    assert ids.usage.prompt_tokens == 3 and ids.choices[0].text is not None


def test_embeddings():
    r = client().embeddings.create(model=MODEL, input=["a small cat", "quarterly revenue report"])
    assert len(r.data) == 2
    a, b = r.data[0].embedding, r.data[1].embedding
    assert len(a) == len(b) > 0
    assert abs(sum(x * x for x in a) - 1) < 1e-3
    r2 = client().embeddings.create(model=MODEL, input="a small cat", encoding_format="float")
    assert max(abs(x - y) for x, y in zip(a, r2.data[0].embedding)) < 1e-4


# --- errors ---------------------------------------------------------------------------------------------------

def test_moderations_flag_self_harm_only():
    r = client().moderations.create(input=[
        "I have the pills in my hand and I am going to take them all tonight. Goodbye.",
        "This traffic is killing me, I'll be late for the meeting.",
        "What is the capital of Japan?",
    ])
    crisis, idiom, neutral = r.results
    assert crisis.flagged and crisis.categories.self_harm and crisis.categories.self_harm_intent
    assert crisis.category_scores.self_harm > 0.5
    assert not idiom.flagged and not neutral.flagged
    assert not any(v for v in neutral.categories.model_dump().values())
    extra = crisis.model_extra["parley_wellbeing"]
    assert extra["category"] == "self_harm_acute" and extra["action"] == "crisis_support"
    single = client().moderations.create(input="我不想活了，今晚就结束一切。")
    assert single.results[0].flagged
    bad = raw("POST", "/v1/moderations", json.dumps({"input": 42}).encode())
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "input"


def test_malformed_json_is_400():
    assert_error_shape(raw_post("/v1/chat/completions", b"{\"model\": "), 400)


def test_unknown_model_is_404():
    with pytest.raises(openai.NotFoundError) as e:
        client().chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 404
    assert e.value.body["param"] == "model"


@pytest.mark.parametrize("param,value", [("temperature", 5), ("max_tokens", -1), ("top_p", "high"),
                                         ("presence_penalty", 9), ("top_logprobs", 50), ("n", 3)])
def test_bad_parameter_is_400_naming_it(param, value):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], param: value}
    if param == "top_logprobs":
        body["logprobs"] = True
    assert_error_shape(raw_post("/v1/chat/completions", json.dumps(body)), 400, param=param)


def test_prompt_longer_than_context_is_400():
    long = "word " * (CTX + 50)
    with pytest.raises(openai.BadRequestError) as e:
        ask(long, max_tokens=4)
    assert e.value.body["code"] == "context_length_exceeded"


def test_missing_or_wrong_key_is_401():
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert_error_shape(raw("POST", "/v1/chat/completions", body, auth=False), 401)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=URL + "/v1", api_key="wrong", max_retries=0).models.list()


def test_oversized_body_is_413():
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x" * 200_000}]})
    assert_error_shape(raw_post("/v1/chat/completions", body), 413)


def test_unknown_path_is_404():
    assert_error_shape(raw("GET", "/v1/unknown"), 404)


def test_queue_full_is_429_with_retry_after():
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Tell me a long story."}],
                       "max_tokens": 48, "temperature": 0})
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(lambda _: raw_post("/v1/chat/completions", body), range(24)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert_error_shape(limited[0], 429)
    assert limited[0].headers.get("retry-after")
    assert all(r.status_code in (200, 429) for r in responses)


# --- concurrency ------------------------------------------------------------------------------------------------

PROMPTS = ["What is the capital of Italy?", "Name two oceans.", "What is 3 times 3?", "Say good morning in French.",
           "What colour is the sky?", "Name a large animal.", "What do cows drink?", "Spell the word cat."]


def stream_text(prompt):
    text = ""
    for chunk in client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}],
                                                  max_tokens=32, temperature=0, stream=True):
        for c in chunk.choices:
            text += c.delta.content or ""
    return text


def test_eight_concurrent_streams_are_correct_and_independent():
    alone = [ask(p, max_tokens=32, temperature=0).choices[0].message.content for p in PROMPTS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(stream_text, PROMPTS))
    assert together == alone
    assert len(set(together)) == len(PROMPTS)


def active_sequences():
    for line in raw("GET", "/metrics", auth=False).text.splitlines():
        if line.startswith("parley_active_sequences{"):
            return int(float(line.split()[-1]))
    raise AssertionError("no active-sequences gauge")


def test_disconnect_frees_the_sequence():
    u = urllib.parse.urlparse(URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("POST", "/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
                 body=json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "Tell a long story."}],
                                  "max_tokens": 400, "stream": True}))
    r = conn.getresponse()
    assert r.status == 200
    seen = 0
    while seen < 3:
        line = r.readline()
        assert line, "stream ended early"
        if line.startswith(b"data: "):
            seen += 1
    assert active_sequences() >= 1
    conn.sock.shutdown(2)  # the client goes away mid-stream
    conn.close()
    deadline = time.time() + 10
    while active_sequences() > 0 and time.time() < deadline:
        time.sleep(0.05)
    assert active_sequences() == 0


def test_server_survives_garbage():
    for body in [b"", b"[]", b"null", b"\xff\xfe", json.dumps({"model": MODEL, "messages": "hi"}).encode(),
                 json.dumps({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}).encode(),
                 json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stop": [1, 2]}).encode()]:
        r = raw_post("/v1/chat/completions", body)
        assert r.status_code == 400, (body, r.text)
    assert raw("GET", "/health", auth=False).status_code == 200
