#!/usr/bin/env python3
"""Independent readers of ise-export's output for tests/ise-export.bats,
each written from what a trainer's loader wants, and the input they read.

  export_check.py enrich < trajectories > enriched
      the trajectories with what the offline engine does not write:
      reasoning as reasoning_content on some assistant messages and as an
      inline <think> block on others, text beside calls, arguments with
      fractions, exponents, big integers and non-ASCII text, a tool spec
      with numbers of every kind
  export_check.py sharegpt FILE
      LLaMA-Factory's sharegpt rules on every sample: human/observation at
      odd positions, gpt/function_call at even ones, an even count, every
      function_call value a call or list of calls (after its text and
      <tool_call>, or its <think> block), tools and system as text
  export_check.py openai FILE
      every call of every sample matched by one tool result in the run of
      tool messages after it, every result by a call, every arguments a
      JSON string that parses as an object
  export_check.py reasoning INPUT FILE
      every reasoning block of the input trajectories appears exactly once
      in the samples of its trajectory (reasoning_content of the output)
  export_check.py messages INPUT FILE
      the messages of each output sample (keys role, content, tool_calls,
      tool_call_id, reasoning_content, weight) equal another file's
Each prints what it checked, or the first fault and exits 1.
"""
import json
import re
import sys


def records(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def fail(msg):
    print("FAULT: " + msg)
    sys.exit(1)


def enrich():
    for n, line in enumerate(sys.stdin):
        r = json.loads(line)
        k = 0
        for m in r["messages"]:
            if m["role"] != "assistant":
                continue
            k += 1
            calls = m.get("tool_calls") or []
            if k % 3 == 1:
                m["reasoning_content"] = "\nR %d.%d: le café d'abord, then ✓ %s\n" % (n, k, "x" * k)
            elif k % 3 == 2:
                m["content"] = "<think>\nI %d.%d: 先想一想\n</think>\n\n%s" % (n, k, m["content"])
            if calls and k % 4 == 0 and not m["content"]:
                m["content"] = "Let me check that — %d." % k
            if calls and k % 5 == 0:
                a = json.loads(calls[0]["function"]["arguments"])
                a.update({"ratio": 1.0, "tiny": 1e-7, "huge": 1.5e16,
                          "big": 12345678901234567890, "text": "naïve ✓\u0001"})
                calls[0]["function"]["arguments"] = json.dumps(a)
        if r.get("tools"):
            r["tools"][0]["function"]["parameters"]["properties"]["ise_probe"] = {
                "type": "number", "default": 0.5, "minimum": -0.0, "maximum": 1e22,
                "multipleOf": 0.0001, "description": "größe «x»"}
        print(json.dumps(r, ensure_ascii=False, separators=(",", ":")))


FUNCTION = re.compile(r"<tool_call>(.*?)</tool_call>", re.S)
THINK = re.compile(r"<think>\n(.*?)\n</think>\n\n", re.S)


def check_call_value(value, where):
    m = FUNCTION.search(value)
    body = m.group(1) if m else THINK.sub("", value, count=1)
    try:
        calls = json.loads(body)
    except ValueError:
        fail("%s: function_call value is not JSON: %r" % (where, value[:200]))
    for c in calls if isinstance(calls, list) else [calls]:
        if not isinstance(c, dict) or not isinstance(c.get("name"), str) \
                or not isinstance(c.get("arguments"), dict):
            fail("%s: a call is not {name, arguments: object}: %r" % (where, c))


def sharegpt(path):
    odd, even = ("human", "observation"), ("gpt", "function_call")
    n = 0
    for s in records(path):
        conv = s["conversations"]
        if not conv or len(conv) % 2:
            fail("%s: %d turns" % (s.get("id"), len(conv)))
        for pos, turn in enumerate(conv, 1):
            want = odd if pos % 2 else even
            if turn["from"] not in want or not isinstance(turn["value"], str):
                fail("%s: '%s' at position %d" % (s.get("id"), turn["from"], pos))
            if turn["from"] == "function_call":
                check_call_value(turn["value"], s.get("id"))
        if not isinstance(s["system"], str) or not isinstance(s["tools"], str):
            fail("%s: system or tools is not text" % s.get("id"))
        if s["tools"] and not isinstance(json.loads(s["tools"]), list):
            fail("%s: tools is not a JSON list" % s.get("id"))
        n += 1
    print("sharegpt order: %d samples" % n)


def openai(path):
    n = calls = 0
    for s in records(path):
        msgs = s["messages"]
        for i, m in enumerate(msgs):
            if m["role"] == "tool":
                prev = i - 1
                while prev >= 0 and msgs[prev]["role"] == "tool":
                    prev -= 1
                ids = [c["id"] for c in msgs[prev].get("tool_calls") or []] if prev >= 0 else []
                if m.get("tool_call_id") not in ids:
                    fail("%s: message %d answers no call before it" % (s.get("id"), i))
            for c in m.get("tool_calls") or []:
                calls += 1
                if c.get("type") != "function" or not isinstance(c["function"]["arguments"], str):
                    fail("%s: call %s: arguments are not a string" % (s.get("id"), c.get("id")))
                if not isinstance(json.loads(c["function"]["arguments"]), dict):
                    fail("%s: call %s: arguments are not an object" % (s.get("id"), c.get("id")))
                j, found = i + 1, 0
                while j < len(msgs) and msgs[j]["role"] == "tool":
                    found += msgs[j]["tool_call_id"] == c["id"]
                    j += 1
                if found != 1:
                    fail("%s: call %s has %d results" % (s.get("id"), c["id"], found))
        n += 1
    print("openai calls: %d samples, %d calls, each with its result" % (n, calls))


def reasoning_blocks(m):
    if isinstance(m.get("reasoning_content"), str):
        return [m["reasoning_content"]]
    c = m.get("content") or ""
    if "</think>" in c:
        return [c.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")]
    return []


def reasoning(inp, path):
    want, got = {}, {}
    for r in records(inp):
        want[r["id"]] = sorted(b for m in r["messages"] if m["role"] == "assistant"
                               for b in reasoning_blocks(m))
    for s in records(path):
        rid = s["id"].rsplit("#", 1)[0]
        got.setdefault(rid, []).extend(b for m in s["messages"] for b in reasoning_blocks(m))
    total = 0
    for rid, blocks in want.items():
        if sorted(got.get(rid, [])) != blocks:
            fail("%s: %d reasoning blocks in, %d out, or not the same" %
                 (rid, len(blocks), len(got.get(rid, []))))
        total += len(blocks)
    print("reasoning: %d blocks, each exactly once" % total)


KEYS = ("role", "content", "tool_calls", "tool_call_id", "reasoning_content", "weight")


def messages(a, b):
    ra, rb = records(a), records(b)
    if len(ra) != len(rb):
        fail("%d samples against %d" % (len(ra), len(rb)))
    for x, y in zip(ra, rb):
        mx = [{k: m[k] for k in KEYS if k in m} for m in x["messages"]]
        my = [{k: m[k] for k in KEYS if k in m} for m in y["messages"]]
        if mx != my or x.get("tools") != y.get("tools"):
            fail("%s: the messages differ" % x.get("id"))
    print("messages: %d samples the same" % len(ra))


cmd = sys.argv[1]
if cmd == "enrich":
    enrich()
elif cmd == "sharegpt":
    sharegpt(sys.argv[2])
elif cmd == "openai":
    openai(sys.argv[2])
elif cmd == "reasoning":
    reasoning(sys.argv[2], sys.argv[3])
elif cmd == "messages":
    messages(sys.argv[2], sys.argv[3])
else:
    fail("unknown command " + cmd)
