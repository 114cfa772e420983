#!/usr/bin/env python3
"""A second rendering of ise-export --format qwen3, written from the rules
that ise-export(1) states (sections "Input", "Samples" and "The Qwen3
text"), not from the C code, for tests/ise-export.bats to compare byte for
byte.  Python's own json.dumps is the tojson the rules describe.

usage: qwen3_ref.py [--think keep|drop|last] [--per-turn]
                    [--arguments string|object] < trajectories > samples
       qwen3_ref.py --all DIR < trajectories
           every combination, into DIR/THINK[-per-turn]-ARGUMENTS.jsonl

It takes only trajectories ise-export takes (the tests give no others).
"""
import argparse
import json
import os
import sys

TOOLS_HEAD = ("# Tools\n\nYou may call one or more functions to assist with the user "
              "query.\n\nYou are provided with function signatures within <tools></tools> "
              "XML tags:\n<tools>")
TOOLS_TAIL = ("\n</tools>\n\nFor each function call, return a json object with function "
              "name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n"
              "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
              "</tool_call><|im_end|>\n")


def tojson(value):
    return json.dumps(value, ensure_ascii=False)


def split_think(content):
    """(reasoning, content) by the inline <think> rule; reasoning None
    when the content holds no </think>."""
    if "</think>" not in content:
        return None, content
    before = content.split("</think>")[0].rstrip("\n")
    return before.split("<think>")[-1].lstrip("\n"), content.split("</think>")[-1].lstrip("\n")


def is_request(m):
    c = m["content"]
    return m["role"] == "user" and not (c.startswith("<tool_response>")
                                        and c.endswith("</tool_response>"))


def load(record):
    msgs, turn = [], 0
    for raw in record["messages"]:
        m = {"role": raw["role"], "content": raw.get("content") or ""}
        if is_request(m):
            turn += 1
        m["turn"] = max(turn, 1)
        if m["role"] == "assistant":
            if isinstance(raw.get("reasoning_content"), str):
                m["reasoning"] = raw["reasoning_content"]
            else:
                m["reasoning"], m["content"] = split_think(m["content"])
            m["calls"] = [c["function"] for c in raw.get("tool_calls") or []]
            m["weight"] = raw.get("weight", 1)
        msgs.append(m)
    return msgs, turn


def sample_end(msgs, end, turn):
    """Up to the last assistant message (of the turn) and its results."""
    last = None
    for i in range(end):
        if msgs[i]["role"] == "assistant" and (not turn or msgs[i]["turn"] == turn):
            last = i
    if last is None:
        return 0
    while last + 1 < end and msgs[last + 1]["role"] == "tool":
        last += 1
    return last + 1


def arguments(args, mode):
    if mode == "string" and isinstance(args, str):
        return args
    return tojson(json.loads(args) if isinstance(args, str) else args)


def render(msgs, tools, turn, opts):
    requests = [i for i, m in enumerate(msgs) if is_request(m)]
    last_request = requests[-1] if requests else None
    text, spans = "", []

    def keeps(i):
        m = msgs[i]
        if m["reasoning"] is None or (turn and m["turn"] != turn):
            return False
        if opts.think == "keep":
            return True
        if opts.think == "last":
            return last_request is not None and i > last_request
        return False

    if tools:
        text += "<|im_start|>system\n"
        if msgs[0]["role"] == "system":
            text += msgs[0]["content"] + "\n\n"
        text += TOOLS_HEAD + "".join("\n" + tojson(t) for t in tools) + TOOLS_TAIL
    elif msgs[0]["role"] == "system":
        text += "<|im_start|>system\n" + msgs[0]["content"] + "<|im_end|>\n"
    for i, m in enumerate(msgs):
        role = m["role"]
        if role == "user":
            text += "<|im_start|>user\n" + m["content"] + "<|im_end|>\n"
        elif role == "assistant":
            if keeps(i):
                reasoning, content = m["reasoning"], m["content"]
            else:
                reasoning, content = split_think(m["content"])
            text += "<|im_start|>assistant\n"
            start = len(text)
            if (last_request is not None and i > last_request
                    and (i == len(msgs) - 1 or reasoning)):
                text += ("<think>\n" + (reasoning or "").strip("\n") + "\n</think>\n\n"
                         + content.lstrip("\n"))
            else:
                text += content
            for k, call in enumerate(m["calls"]):
                if k or content:
                    text += "\n"
                text += ("<tool_call>\n{\"name\": \"" + call["name"] + "\", \"arguments\": "
                         + arguments(call["arguments"], opts.arguments) + "}\n</tool_call>")
            text += "<|im_end|>"
            weight = m["weight"] if not turn or m["turn"] == turn else 0
            if weight:
                spans.append([start, len(text)])
            text += "\n"
        elif role == "tool":
            if i == 0 or msgs[i - 1]["role"] != "tool":
                text += "<|im_start|>user"
            text += "\n<tool_response>\n" + m["content"] + "\n</tool_response>"
            if i == len(msgs) - 1 or msgs[i + 1]["role"] != "tool":
                text += "<|im_end|>\n"
    return text, spans


def export(records, opts, out):
    for record in records:
        rid = record.get("id", record.get("intent_id", record.get("session_id")))
        msgs, turns = load(record)
        tools = record.get("tools") or []
        if opts.per_turn:
            samples, first = [], 0
            for t in range(1, max(turns, 1) + 1):
                while first < len(msgs) and msgs[first]["turn"] <= t:
                    first += 1
                end = sample_end(msgs, first, t)
                if end:
                    samples.append((t, rid + "#" + str(t), end))
        else:
            samples = [(0, rid, sample_end(msgs, len(msgs), 0))]
        for turn, sid, end in samples:
            text, spans = render(msgs[:end], tools, turn, opts)
            out.write(json.dumps({"id": sid, "text": text, "spans": spans},
                                 ensure_ascii=False, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--think", default="keep", choices=("keep", "drop", "last"))
    ap.add_argument("--per-turn", action="store_true")
    ap.add_argument("--arguments", default="object", choices=("string", "object"))
    ap.add_argument("--all", metavar="DIR")
    opts = ap.parse_args()
    records = [json.loads(line) for line in sys.stdin if line.strip()]
    if not opts.all:
        export(records, opts, sys.stdout)
        return
    for think in ("keep", "drop", "last"):
        for per_turn in (False, True):
            for args in ("object", "string"):
                o = argparse.Namespace(think=think, per_turn=per_turn, arguments=args)
                name = "%s%s-%s.jsonl" % (think, "-per-turn" if per_turn else "", args)
                with open(os.path.join(opts.all, name), "w", encoding="utf-8") as out:
                    export(records, o, out)


main()
