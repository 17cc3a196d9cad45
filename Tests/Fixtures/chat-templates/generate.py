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
    print(f"{len(cases)} cases ({sum('raises' in c for c in cases)} raise, {sum('fails' in c for c in cases)} fail) written to expected.json")


if __name__ == "__main__":
    main()
