#!/usr/bin/env python3
"""Renders every template here over a set of conversations with Python Jinja2, configured the way
Hugging Face transformers' `apply_chat_template` configures it, and writes `expected.json`.

transformers (utils/chat_template_utils.py, _compile_jinja_template):
  ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
  filters["tojson"] = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
  globals["raise_exception"] raises TemplateError(message); globals["strftime_now"] = datetime.now().strftime(fmt)
  render(messages=..., tools=None|[...], documents=None, add_generation_prompt=..., **special_tokens, **kwargs)

Here `strftime_now` reports a fixed time (2024-09-05 12:00 local) so the expected outputs are deterministic,
and the `{% generation %}` tag of AssistantTracker is replaced by a pass-through extension.

Run: python3 Tests/Fixtures/chat-templates/generate.py   (needs jinja2; tested with 3.1.6)
"""
import json
import os
from datetime import datetime

import jinja2
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime(2024, 9, 5, 12, 0, 0)


class GenerationPassThrough(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body, lineno=lineno)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationPassThrough, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


TEMPLATES = {
    # file: (bos_token, eos_token, supports_tools)
    "HuggingFaceTB-SmolLM2-135M-Instruct.jinja": ("<|im_start|>", "<|im_end|>", False),
    "google-gemma-2-2b-it.jinja": ("<bos>", "<eos>", False),
    "google-gemma-3-4b-it.jinja": ("<bos>", "<eos>", False),
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>", True),
    "meta-llama-Llama-3.2-3B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>", True),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("", "<|im_end|>", True),
    "Qwen-Qwen3-0.6B.jinja": ("", "<|im_end|>", True),
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": ("<s>", "</s>", True),
    "microsoft-Phi-3.5-mini-instruct.jinja": ("<s>", "<|endoftext|>", False),
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": ("<|begin_of_text|>", "<|im_end|>", True),
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", False),
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city. Handles <b>tags</b> & 'quotes'.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time.",
        "parameters": {"type": "object", "properties": {}},
    },
}

CONVERSATIONS = [
    ("single_user", [{"role": "user", "content": "Hello!"}], True, {}),
    ("system_user", [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What is 2+2?"}], True, {}),
    ("multi_turn", [{"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello! How can I help?"},
                    {"role": "user", "content": "Tell me a joke."}], True, {}),
    ("system_multi_turn", [{"role": "system", "content": "Answer briefly."},
                           {"role": "user", "content": "Name three colors."},
                           {"role": "assistant", "content": "Red, green, blue."},
                           {"role": "user", "content": "Three more?"}], True, {}),
    ("assistant_last_no_prompt", [{"role": "user", "content": "Say OK."},
                                  {"role": "assistant", "content": "OK."}], False, {}),
    ("no_generation_prompt", [{"role": "user", "content": "Ping"}], False, {}),
    ("unicode_whitespace", [{"role": "user", "content": "  Grüße aus Zürich! 日本語 🎉\n\nLine two\twith tab.  "},
                            {"role": "assistant", "content": "\nÇa va? <b>bold</b> & \"quotes\" 'single' \\ back\n"},
                            {"role": "user", "content": "émigré naïve café — ok?"}], True, {}),
    ("empty_content", [{"role": "user", "content": ""}], True, {}),
    ("system_only_empty", [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}], True, {}),
    ("date_string", [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Date?"}], True,
     {"date_string": "26 Jul 2024"}),
    ("non_alternating", [{"role": "user", "content": "One"}, {"role": "user", "content": "Two"}], True, {}),
]

TOOL_CONVERSATIONS = [
    ("tools_user", [{"role": "user", "content": "What's the weather in Paris?"}], True,
     {"tools": [WEATHER_TOOL, TIME_TOOL]}),
    ("tools_system_user", [{"role": "system", "content": "You can call tools."},
                           {"role": "user", "content": "Weather in Zürich, in celsius?"}], True,
     {"tools": [WEATHER_TOOL]}),
    ("tool_call_roundtrip", [
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call12345", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
         "content": "{\"temperature\": 21, \"condition\": \"sunny\"}"},
    ], True, {"tools": [WEATHER_TOOL]}),
    ("tool_call_then_answer", [
        {"role": "system", "content": "Use tools when needed."},
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "abcdef123", "type": "function",
             "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "tool_call_id": "abcdef123", "name": "get_weather", "content": "-3 degrees, snow"},
        {"role": "assistant", "content": "It is -3 °C and snowing in Oslo."},
        {"role": "user", "content": "Thanks!"},
    ], True, {"tools": [WEATHER_TOOL]}),
]


# Small templates exercising individual features; rendered with the same environment into features.json.
FEATURES = [
    ("loop_vars", "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("loop_filter_else", "{% for x in items if x > 1 %}{{ x }}{{ ',' if not loop.last }}{% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", {"items": [1, 2, 3, 4]}),
    ("loop_cycle_prev_next", "{% for x in [1,2,3] %}{{ loop.cycle('a','b') }}{{ loop.previtem is defined }}{{ loop.nextitem|default('-') }} {% endfor %}", {}),
    ("loop_break_continue", "{% for i in range(10) %}{% if i is odd %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 5 %}{% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}[{{ x }}]", {}),
    ("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("tuple_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"z": 1, "a": [1, 2]}}),
    ("whitespace_control", "a  {%- if true -%}  b  {%- endif -%}  c\n  {{- ' d ' -}}  \n e {# comment #} f\n  {#- c2 -#}\n g", {}),
    ("trim_lstrip_blocks", "<ul>\n  {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n  {% endfor %}\n</ul>\n  {# note #}\nend  {%+ if true %}kept{% endif +%}\nnext\n", {}),
    ("crlf_and_raw", "line1\r\n{% if true %}\r\nx\r\n{% endif %}\r\n{% raw %}{{ not parsed }}{% endraw %}\r\n", {}),
    ("macro", "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', punct='?') }} {{ greet(name='Cy') }}", {}),
    ("set_block", "{% set body %}  Inner {{ 1 + 1 }}  {% endset %}[{{ body }}][{{ body | trim | upper }}]", {}),
    ("literals", "{{ 'a\\tb\\u00e9\\x41' }}|{{ \"q'\" ~ 'd\"' }}|{{ 1_000 + 0.5 }}|{{ [1, 'two', none, true, 2.50, {'k': False}] }}|{{ (1, 2) | list }}|{{ 'x' 'y' }}", {}),
    ("arithmetic", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 1e3 }} {{ 0.1 + 0.2 }} {{ 1 + true }} {{ 10 / 4 * 2 }}", {}),
    ("comparisons", "{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }} {{ 'k' in {'k': 1} }} {{ none == none }} {{ 1 != 2 }} {{ not 0 }}", {}),
    ("logic_values", "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ '' and 'b' }}|{{ none or [] }}|{{ 'yes' if 0 else 'no' }} {{ 'only' if true }}[{{ 'only' if false }}]", {}),
    ("subscripts", "{{ s[0] }}{{ s[-1] }}{{ s[1:3] }}{{ s[::-1] }}{{ s[:-2] }}{{ l[1:] }}{{ l[::2] }}{{ l[-2:] }}{{ d['a']['b'] }}{{ d.a.b }}{{ l[10] is defined }}", {"s": "héllo", "l": [1, 2, 3, 4, 5], "d": {"a": {"b": "B"}}}),
    ("undefined", "[{{ missing }}][{{ missing is defined }}][{{ m.x is defined }}][{{ m['x'] }}][{{ missing | default('dflt') }}][{{ missing | length }}][{% for x in missing %}x{% endfor %}][{{ not missing }}][{{ missing ~ 'z' }}][{{ m.get('x', 'g') }}][{{ none | default('n') }}][{{ '' | default('e', true) }}]", {"m": {}}),
    ("tests", "{{ none is none }} {{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'x' is sequence }} {{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ 'x' is not none }} {{ 2 is eq 2 }} {{ 'ab' is lower }} {{ x is undefined }}", {}),
    ("string_filters", "{{ '  pad  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'a-b-c' | replace('-', '+') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'héllo' | length }}|{{ 'x' | string }}|{{ 12 | string }}|{{ '<a href=\"x\">&\\'</a>' | escape }}|{{ 'one two  three' | wordcount }}|{{ 'x%sy%d' | format('A', 3) }}", {}),
    ("list_filters", "{{ l | join(', ') }}|{{ l | first }}|{{ l | last }}|{{ l | length }}|{{ l | sum }}|{{ l | reverse | list }}|{{ l | sort | list }}|{{ l | sort(reverse=true) | list }}|{{ [3, 1, 3, 2] | unique | list }}|{{ ['B', 'a', 'C'] | sort }}|{{ l | min }} {{ l | max }}|{{ [1, 2, 3, 4, 5] | batch(2) | list }}|{{ 'abc' | list }}", {"l": [3, 1, 2]}),
    ("dict_filters", "{{ d | dictsort | map('join', '=') | join(',') }}|{{ d | dictsort(by='value', reverse=true) | map('join', '=') | join(',') }}|{{ d | items | map('join', '=') | list }}|{% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %}|{{ d.keys() | list }}|{{ d.values() | list }}|{{ d | length }}|{{ d | list }}", {"d": {"b": 2, "a": 3, "C": 1}}),
    ("select_map", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}|{{ msgs | rejectattr('role', 'eq', 'user') | list | length }}|{{ [1, 2, 3, 4] | select('odd') | list }}|{{ [1, 0, 2] | select | list }}|{{ [1, 2, 3] | reject('even') | list }}|{{ msgs | map(attribute='missing', default='?') | list }}|{{ ['a', 'b'] | map('upper') | list }}|{{ msgs | selectattr('tool_calls', 'defined') | list | length }}|{{ msgs | map(attribute='meta.n') | list }}|{{ msgs | sum(attribute='meta.n') }}", {"msgs": [{"role": "user", "content": "u1", "meta": {"n": 1}}, {"role": "assistant", "content": "a1", "tool_calls": [], "meta": {"n": 2}}, {"role": "user", "content": "u2", "meta": {"n": 3}}]}),
    ("tojson", "{{ v | tojson }}|{{ v | tojson(indent=2) }}|{{ v | tojson(sort_keys=true) }}|{{ 'é<>&\\'\"\\n' | tojson }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson }}|{{ 1.0 | tojson }}|{{ none | tojson }}|{{ v | tojson(separators=[',', ':']) }}|{{ 'é' | tojson(ensure_ascii=true) }}", {"v": {"name": "f", "args": {"b": [1, 2.5, True, None], "a": "x"}, "empty": []}}),
    ("indent", "[{{ 'a\\nb\\n\\nc' | indent }}][{{ 'a\\nb' | indent(2, true) }}][{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}][{{ 'x\\n' | indent(first=true) }}]", {}),
    ("numeric_filters", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }} {{ -3 | abs }} {{ -2.5 | abs }} {{ '42' | int }} {{ '3.9' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 'bad' | float }} {{ 3 | float }}", {}),
    ("string_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x', 'lo')) }}|{{ 'hi'.upper() }}|{{ 'HI'.lower() }}|{{ \"they're 1st\".title() }}|{{ 'aXa'.replace('a', 'b') }}|{{ 'abcabc'.find('c') }}|{{ 'abcabc'.count('bc') }}|{{ '-'.join(['x', 'y']) }}|{{ '{} and {name}'.format(1, name='n') }}|{{ 'x</think>y'.split('</think>')[-1] }}|{{ 'a\\nb'.splitlines() }}|{{ 'abc'.capitalize() }}", {"s": "  padded  "}),
    ("dict_methods", "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.items() | map('first') | list }} {{ d['a'] }} {{ d.a }}", {"d": {"a": 1, "b": {"c": 2}}}),
    ("globals", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b='x') }} {{ strftime_now('%Y-%m-%d %d %b %B %A %a %H:%M') }} {{ namespace(a=1).a }}", {}),
    ("python_repr", "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', 'nl\\n'] }} {{ {'k': [1.5, none, true]} }} {{ 1e20 }} {{ 1e-5 }} {{ 123456789.0 }} {{ 1e16 }} {{ 1e15 }} {{ -0.0 }} {{ 100.0 }}", {}),
    ("precedence", "{{ 1 + 2 ~ 3 if false else 'ok' }} {{ -2 ** 2 }} {{ not 1 == 2 }} {{ 'a' ~ (1 + 2) }} {{ [1,2,3] | length > 2 and true }} {{ 5 - 3 - 1 }} {{ 2 * 3 % 4 }} {{ 'ab' ~ 'cd' | upper }}", {}),
    ("precedence_concat_error", "{{ 'a' ~ 1 + 2 }}", {}),
    ("comments_only", "{# nothing #}\n{# more #}\ntext", {}),
    ("filter_block", "{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("nested_data", "{% for m in messages %}{% if m.tool_calls %}{% for tc in m.tool_calls %}{{ tc.function.name }}({{ tc.function.arguments | tojson }}){% endfor %}{% else %}{{ m.content }}{% endif %};{% endfor %}", {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1, "y": "é"}}}]}]}),
]


def write_features(env):
    out = []
    for name, source, context in FEATURES:
        case = {"name": name, "template": source, "context": context}
        try:
            case["expected"] = env.from_string(source).render(**context)
        except Exception as e:  # noqa: BLE001
            case["fails"] = f"{type(e).__name__}: {e}"
        out.append(case)
    with open(os.path.join(HERE, "features.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "generate.py", "jinja2": jinja2.__version__, "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(out)} feature cases ({sum('fails' in c for c in out)} fail) written to features.json")


def main():
    env = make_env()
    cases = []
    for fname, (bos, eos, supports_tools) in TEMPLATES.items():
        with open(os.path.join(HERE, fname), encoding="utf-8") as f:
            source = f.read()
        template = env.from_string(source)
        convs = CONVERSATIONS + (TOOL_CONVERSATIONS if supports_tools else [])
        for name, messages, add_gen, extra in convs:
            context = {"messages": messages, "tools": None, "documents": None,
                       "add_generation_prompt": add_gen, "bos_token": bos, "eos_token": eos}
            context.update(extra)
            case = {"template": fname, "name": name, "bos_token": bos, "eos_token": eos,
                    "add_generation_prompt": add_gen, "messages": messages, "extra": extra}
            try:
                case["expected"] = template.render(**context)
            except Exception as e:  # noqa: BLE001 - recorded for the Swift side to reproduce
                if type(e) is jinja2.exceptions.TemplateError:
                    case["raises"] = str(e)  # raise_exception(message) from the template
                else:
                    case["fails"] = f"{type(e).__name__}: {e}"
            cases.append(case)
    out = {"generator": "generate.py", "jinja2": jinja2.__version__,
           "fixed_now": FIXED_NOW.isoformat(), "cases": cases}
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    write_features(env)
    print(f"{len(cases)} cases ({sum('raises' in c for c in cases)} raise, {sum('fails' in c for c in cases)} fail) written to expected.json")


if __name__ == "__main__":
    main()
