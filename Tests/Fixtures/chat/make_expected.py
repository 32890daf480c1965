#!/usr/bin/env python3
"""Renders every chat template in ../shared/fixtures/chat-templates the way HuggingFace
transformers' apply_chat_template does, and writes expected.json beside this script.

Settings mirror transformers: jinja2.sandbox.ImmutableSandboxedEnvironment with
trim_blocks=True, lstrip_blocks=True, the loopcontrols extension and a `generation`
block tag (rendered as its body); `tojson` is json.dumps(ensure_ascii=False, ...);
`raise_exception` raises TemplateError; `strftime_now` formats a fixed clock.
Variables: messages, tools=None, documents=None, add_generation_prompt, bos_token, eos_token.

Usage (from the package root):
  python3 -m venv Tests/Fixtures/chat/.venv
  Tests/Fixtures/chat/.venv/bin/pip install -r Tests/Fixtures/chat/requirements.txt
  Tests/Fixtures/chat/.venv/bin/python Tests/Fixtures/chat/make_expected.py
"""
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.normpath(os.path.join(HERE, "../../../../shared/fixtures/chat-templates"))
NOW = datetime(2026, 3, 14, 9, 26, 53)
BOS, EOS = "<s>", "</s>"

CASES = {
    "user": [
        {"role": "user", "content": "Hello, who are you?"},
    ],
    "system_user": [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "What is 2 + 2?"},
    ],
    "multi_turn": [
        {"role": "user", "content": "Hi there!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a \"fun\" fact\nabout cats."},
    ],
}

# Richer conversations rendered through `render(context:)`: a tool list, and a tool call
# with its result (arguments as a mapping, as transformers passes them). Only with the
# generation prompt, to keep expected.json small.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}
CONTEXTS = {
    "tools": {
        "messages": [
            {"role": "system", "content": "You can call tools."},
            {"role": "user", "content": "Weather in Zürich?"},
        ],
        "tools": [WEATHER_TOOL],
    },
    "tool_calls": {
        "messages": [
            {"role": "user", "content": "Weather in Zürich?"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "call12345", "type": "function",
                 "function": {"name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}]},
            {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temperature\": 21.5}"},
        ],
        "tools": [WEATHER_TOOL],
    },
}


class GenerationBlock(Extension):
    """`{% generation %}...{% endgeneration %}`: transformers tracks assistant spans here;
    for rendering it is just its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[GenerationBlock, "jinja2.ext.loopcontrols"])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)
    return env


def main():
    env = make_environment()
    names = sorted(n for n in os.listdir(TEMPLATES) if n.endswith(".jinja"))
    expected = {}
    for name in names:
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            source = f.read()
        results = {}
        try:
            template = env.from_string(source)
        except jinja2.TemplateError as e:
            for case in CASES:
                for agp in (False, True):
                    results[f"{case}/{'gen' if agp else 'nogen'}"] = f"error: {type(e).__name__}: {e}"
            for case in CONTEXTS:
                results[f"{case}/gen"] = f"error: {type(e).__name__}: {e}"
            expected[name] = results
            continue
        for case, messages in CASES.items():
            for agp in (False, True):
                key = f"{case}/{'gen' if agp else 'nogen'}"
                try:
                    results[key] = template.render(
                        messages=messages, tools=None, documents=None,
                        add_generation_prompt=agp, bos_token=BOS, eos_token=EOS)
                except Exception as e:  # the reference's own refusal is an expected outcome
                    results[key] = f"error: {type(e).__name__}: {e}"
        for case, context in CONTEXTS.items():
            key = f"{case}/gen"
            try:
                results[key] = template.render(
                    messages=context["messages"], tools=context["tools"], documents=None,
                    add_generation_prompt=True, bos_token=BOS, eos_token=EOS)
            except Exception as e:
                results[key] = f"error: {type(e).__name__}: {e}"
        expected[name] = results
    out = {
        "generator": "make_expected.py, Jinja2 " + jinja2.__version__,
        "settings": {"bos_token": BOS, "eos_token": EOS, "now": NOW.isoformat(),
                     "tools": None, "documents": None},
        "cases": CASES,
        "contexts": CONTEXTS,
        "expected": expected,
    }
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum(1 for r in expected.values() for v in r.values() if v.startswith("error: "))
    total = sum(len(r) for r in expected.values())
    print(f"{len(names)} templates, {total} cases, {errors} reference errors", file=sys.stderr)


if __name__ == "__main__":
    main()
