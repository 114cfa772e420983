#!/usr/bin/env python3
"""Answer a batch request file as `vllm run-batch` does, for the tests.

    batch_answer.py BASE_URL < requests.jsonl > results.jsonl

Each line's body is POSTed to BASE_URL + /chat/completions (the key from
OPENAI_API_KEY), and the server's reply, whatever its status, is written as
an output line {id, custom_id, response: {status_code, request_id, body},
error: null}, in reverse order (an output file keeps no order)."""
import json
import os
import sys
import urllib.error
import urllib.request


def main():
    base = sys.argv[1].rstrip("/")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    out = []
    for n, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        req = json.loads(line)
        r = urllib.request.Request(base + "/chat/completions", data=json.dumps(req["body"]).encode(),
                                   headers={"Content-Type": "application/json",
                                            "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")})
        try:
            with opener.open(r, timeout=30) as f:
                status, body = f.status, f.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        out.append({"id": "batch_req_%d" % n, "custom_id": req["custom_id"],
                    "response": {"status_code": status, "request_id": "req_%d" % n,
                                 "body": json.loads(body)},
                    "error": None})
    for o in reversed(out):
        print(json.dumps(o))


main()
