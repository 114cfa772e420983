#!/usr/bin/env python3
"""A fake OpenAI-compatible server for the ise test suites (standard library only).

    fake_openai.py --port 0 --port-file F [--tape T.jsonl] [--log R.jsonl] [--echo]
                   [--rpm N] [--max-inflight N [--over-inflight-status 503|429]
                   [--over-inflight-retry-after S]] [--latency-ms N]
                   [--fail-rate P --fail-seed S] [--embed-dim D]

Binds 127.0.0.1 only, writes the chosen port to F (F.tmp, then rename) once
bound, and serves until SIGTERM or SIGINT (exit 0).  It speaks the OpenAI
Chat Completions and Embeddings wire format with the reply and error shapes
of the servers it imitates; the tape format is described in TAPE below.

Routes: POST /v1/chat/completions, POST /v1/embeddings, GET /v1/models,
GET /health, and the Files and Batches endpoints of fake_batch.py
(--batch-step-ms, --batch-expire-after N, --batch-create-hang N,
--batch-list-page N).  Control
(never logged, never counted, never limited):
POST /__fake/tape (body: JSONL tape, or a JSON array of entries; replaces the
tape), POST /__fake/reset (empties the log, zeroes counters and stats
(--batch-create-hang's too),
reseeds --fail-seed, refills --rpm, reloads --tape, forgets the shape),
GET /__fake/stats, POST /__fake/shape (see SHAPES).

Each served request is one JSON line in the log, written before the reply
is sent (after any delay is decided, before it elapses):
  {seq, t, method, path, auth_present, auth_scheme, headers_subset,
   body (parsed JSON or null), body_sha256, model, status, fault?}
status is the HTTP status sent, 0 for a dropped or hung request; fault says
why when it is not a plain reply: "drop" or "hang" (from the tape),
"injected" (--fail-rate: 500, 503 or dropped), "rpm" (429) or "inflight"
(503, or the --over-inflight-status).  The value
of Authorization (or api-key) is never written anywhere.

--max-inflight N refuses an API request (POST) that arrives while N are
being served: 503 Ollama-style (queue full) by default, or with
--over-inflight-status 429 OpenAI-style (rate_limit_exceeded); with
--over-inflight-retry-after S the refusal carries "Retry-After: S" (S as
given, fractions too).  GET /health and /v1/models are never refused, as
a busy server still answers them.  The stats count the refusals
(rejected_inflight) and the most API requests served at once
(peak_served), beside peak_inflight (every request, refused ones too).

TAPE: one JSON object per line (blank lines and lines starting with # are
skipped).  A request is answered by the first entry, in tape order, whose
"match" fits and which has servings left; "repeat" (default 1, -1 forever)
says how many.  No entry left: with --echo the echo reply, else 500
{"error":{"message":"fake: tape exhausted"}}.  GET /v1/models and /health
use only entries whose match.path names them.
  "match": {"path", "model", "last_user_re" (re.search on the last user
            message), "contains" (substring of the request's messages, or of
            its input for embeddings, serialized as JSON), "last_role" (the
            role of the request's last message: "user", "tool", ...)}
  "repeat", "delay_ms", "status", "headers": {...}
  one of:
  "reply": {"content", "tool_calls": [{"name", "arguments": {...} |
            "arguments_raw": "text" | "arguments_obj": {...}, "id", "no_id",
            "type"}], "finish_reason", "reasoning_content", "reasoning",
            "usage": {...}, "no_usage", "model", "id",
            "embeddings": [[...]] (for /v1/embeddings)}
  "no_usage": true          (also accepted at the top level)
  "json": value             (the body, verbatim)
  "error_style": "openai" | "vllm_old" | "vllm_new" | "llamacpp" |
                 "ollama_native" | "html", with "error_message",
                 "error_code", "error_type" (and "n_prompt_tokens", "n_ctx"
                 for llama.cpp exceed_context_size_error)
  "raw": "text"             (the body, verbatim, as application/json)
  "reply_shape": NAME       (a chat reply worded exactly as a real server
                             words it; see REPLY SHAPES below)
  "drop": true              (read the request, close without a response)
  "hang": true              (never answer; ends when the client goes away)

SHAPES: POST /__fake/shape with a JSON object makes the server behave as
a real one does beyond single replies (the tape still answers what gets
through); {} undoes it.  Keys:
  "loading_s": S      for S seconds from the first request after this (so
                      that a slow start of the client does not miss it),
                      a loading llama-server: GET
                      /health and every POST answer 503 {"error": {"code":
                      503, "message": "Loading model", "type":
                      "unavailable_error"}}; GET /v1/models already answers
  "max_model_len": N  vLLM: /v1/models lists max_model_len N, and a chat
                      request whose prompt + max_tokens exceeds N gets
                      vLLM's 400 "This model's maximum context length ..."
  "n_ctx": N, "parallel": P   llama-server -c N --parallel P: GET /props
                      says default_generation_settings.n_ctx N/P, and a
                      prompt of N/P tokens or more gets 400
                      exceed_context_size_error with n_prompt_tokens, n_ctx
  (with either, the prompt is len(messages + tools as compact JSON) / 4
  tokens, and usage.prompt_tokens says so)
  "served_model": NAME  /v1/models lists NAME (else "fake-model")
  "embed_max_chars": L, "embed_too_long_status": 413 | 422   TEI: a batch
                      with an input over L characters is refused whole,
                      {"message": "Input validation error: ...", "code",
                      "type": "Validation"}
  "embed_max_batch": B  TEI: more than B inputs is 422 "batch size ..."
  "embed_no_index": true  embeddings without index fields
  "embed_base64": true  embeddings as base64 float32 (also whenever the
                      request asks encoding_format "base64")
  "no_embeddings": true  llama-server without --embeddings: 501
"""

import argparse
import base64
import struct
import hashlib
import json
import math
import os
import random
import re
import select
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import fake_batch

CHAT = "/v1/chat/completions"
EMBED = "/v1/embeddings"
MODELS = "/v1/models"
HEALTH = "/health"
API_POST = (CHAT, EMBED)
API_GET = (MODELS, HEALTH)

OLLAMA_BUSY = "server busy, please try again. maximum pending requests exceeded"
LOGGED_HEADERS = (
    "content-type",
    "content-length",
    "user-agent",
    "accept",
    "idempotency-key",
    "x-request-id",
    "x-stainless-retry-count",
    "x-should-retry",
)

STOP = threading.Event()


class TapeError(Exception):
    pass


def parse_tape(text):
    """Tape entries from JSONL text (or a JSON array)."""
    s = text.strip()
    if s.startswith("["):
        try:
            entries = json.loads(s)
        except ValueError as e:
            raise TapeError("tape: %s" % e)
    else:
        entries = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                entries.append(json.loads(line))
            except ValueError as e:
                raise TapeError("tape line %d: %s" % (n, e))
    for n, e in enumerate(entries, 1):
        if not isinstance(e, dict):
            raise TapeError("tape entry %d: not an object" % n)
        m = e.get("match", {})
        if not isinstance(m, dict):
            raise TapeError("tape entry %d: match is not an object" % n)
        if "last_user_re" in m:
            try:
                re.compile(m["last_user_re"])
            except (re.error, TypeError) as ex:
                raise TapeError("tape entry %d: last_user_re: %s" % (n, ex))
    return [[e, int(e.get("repeat", 1))] for e in entries]


def text_of(content):
    """The text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def last_user(body):
    msgs = body.get("messages") if isinstance(body, dict) else None
    if isinstance(msgs, list):
        for m in reversed(msgs):
            if isinstance(m, dict) and m.get("role") == "user":
                return text_of(m.get("content"))
    return None


def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tokens(chars):
    return (chars + 3) // 4


def prompt_chars(body):
    n = 0
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            continue
        n += len(text_of(m.get("content")))
        for tc in m.get("tool_calls") or []:
            if isinstance(tc, dict) and isinstance(tc.get("function"), dict):
                a = tc["function"].get("arguments")
                n += len(a) if isinstance(a, str) else len(canonical(a))
    return n


def embed_inputs(body):
    inp = body.get("input") if isinstance(body, dict) else None
    if isinstance(inp, str):
        return [inp]
    if isinstance(inp, list):
        if inp and all(isinstance(x, int) for x in inp):  # one token array
            return [canonical(inp)]
        return [x if isinstance(x, str) else canonical(x) for x in inp]
    return []


def echo_vector(text, dim):
    """A deterministic unit vector from sha256 of the text."""
    vals = []
    block = 0
    seed = text.encode("utf-8")
    while len(vals) < dim:
        h = hashlib.sha256(seed + b"\0" + str(block).encode()).digest()
        for i in range(0, 32, 4):
            vals.append(int.from_bytes(h[i : i + 4], "little") / 2**31 - 1.0)
        block += 1
    vals = vals[:dim]
    norm = math.sqrt(sum(v * v for v in vals)) or 1.0
    return [round(v / norm, 8) for v in vals]


def echo_content(body):
    u = last_user(body)
    if u is not None:
        i = u.find("ECHO_JSON:")
        if i >= 0:
            rest = u[i + len("ECHO_JSON:") :].lstrip()
            try:
                _, end = json.JSONDecoder().raw_decode(rest)
                return rest[:end]
            except ValueError:
                return rest.rstrip()
    msgs = body.get("messages") if isinstance(body, dict) else None
    return hashlib.sha256(canonical(msgs).encode("utf-8")).hexdigest()[:16]


# --- error bodies, in each server's shape ------------------------------------

OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
                404: "invalid_request_error", 409: "invalid_request_error", 422: "invalid_request_error"}
VLLM_TYPES = {400: "BadRequestError", 401: "UnauthorizedError", 404: "NotFoundError", 422: "BadRequestError",
              429: "RateLimitError", 500: "InternalServerError", 501: "NotImplementedError",
              503: "ServiceUnavailableError"}
LLAMA_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 500: "server_error", 501: "not_supported_error", 503: "unavailable_error"}
HTML_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def default_error_status(e):
    style = e.get("error_style", "openai")
    if style == "html":
        return 502
    if style == "ollama_native":
        return 503
    if e.get("error_type") == "unavailable_error":
        return 503
    if e.get("error_code") in ("rate_limit_exceeded", "insufficient_quota"):
        return 429
    return 400


def error_body(e, status):
    """(content-type, bytes) of an error reply in entry e's style."""
    style = e.get("error_style", "openai")
    msg = e.get("error_message")
    if msg is None:
        msg = OLLAMA_BUSY if style == "ollama_native" and status == 503 else "fake error %d" % status
    etype = e.get("error_type")
    if style == "openai":
        if etype is None:
            code = e.get("error_code")
            if status == 429:
                etype = "insufficient_quota" if code == "insufficient_quota" else "requests"
            else:
                etype = OPENAI_TYPES.get(status, "server_error")
        body = {"error": {"message": msg, "type": etype, "param": e.get("error_param"), "code": e.get("error_code")}}
    elif style == "vllm_new":
        body = {"error": {"message": msg, "type": etype or VLLM_TYPES.get(status, "BadRequestError"),
                          "param": e.get("error_param"), "code": e.get("error_code", status)}}
    elif style == "vllm_old":
        body = {"object": "error", "message": msg, "type": etype or VLLM_TYPES.get(status, "BadRequestError"),
                "param": e.get("error_param"), "code": e.get("error_code", status)}
    elif style == "llamacpp":
        err = {"code": e.get("error_code", status), "message": msg, "type": etype or LLAMA_TYPES.get(status, "server_error")}
        if err["type"] == "exceed_context_size_error":
            err["n_prompt_tokens"] = e.get("n_prompt_tokens", 5000)
            err["n_ctx"] = e.get("n_ctx", 4096)
        body = {"error": err}
    elif style == "ollama_native":
        body = {"error": msg}
    elif style == "html":
        reason = HTML_REASONS.get(status, "Error")
        text = ("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
                "<hr><center>nginx</center>\r\n<!-- %s -->\r\n</body>\r\n</html>\r\n") % (status, reason, status, reason, msg)
        return "text/html", text.encode("utf-8")
    else:
        raise TapeError("unknown error_style %r" % style)
    return "application/json", json.dumps(body).encode("utf-8")


# --- server state ----------------------------------------------------------


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.tape = self.load_tape_file()
        self.inflight = 0
        self.serving = 0  # API requests in flight that were not refused
        self.reset_counters()

    def load_tape_file(self):
        if not self.args.tape or not os.path.exists(self.args.tape):
            return []
        with open(self.args.tape, encoding="utf-8") as f:
            return parse_tape(f.read())

    def reset_counters(self):
        self.seq = 0
        self.call_n = 0
        self.requests = 0
        self.peak = self.inflight
        self.peak_served = self.serving
        self.rejected_rpm = 0
        self.rejected_inflight = 0
        self.injected = 0
        self.rng = random.Random(self.args.fail_seed)
        self.tokens = float(self.args.rpm or 0)
        self.refilled = time.monotonic()
        self.shape = Shape()
        fake_batch.reset_counters()

    def reset(self):
        tape = self.load_tape_file()
        with self.lock:
            self.tape = tape
            self.reset_counters()
            if self.log:
                self.log.seek(0)
                self.log.truncate()
                self.log.flush()

    def stats(self):
        with self.lock:
            left = 0
            for _, n in self.tape:
                if n < 0:
                    left = -1
                    break
                left += n
            return {"requests": self.requests, "peak_inflight": self.peak, "rejected_rpm": self.rejected_rpm,
                    "rejected_inflight": self.rejected_inflight, "peak_served": self.peak_served,
                    "injected_failures": self.injected,
                    "inflight": self.inflight, "tape_left": left}

    def rpm_take(self):
        """Take a token from the bucket (lock held); (ok, headers)."""
        rpm = self.args.rpm
        now = time.monotonic()
        self.tokens = min(float(rpm), self.tokens + (now - self.refilled) * rpm / 60.0)
        self.refilled = now
        ok = self.tokens >= 1.0
        if ok:
            self.tokens -= 1.0
        reset = 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) * 60.0 / rpm
        h = {"x-ratelimit-limit-requests": str(rpm),
             "x-ratelimit-remaining-requests": str(int(self.tokens)),
             "x-ratelimit-reset-requests": "%.3gs" % reset}
        return ok, h

    def match(self, path, body):
        """The first fitting tape entry with servings left, consumed (lock held)."""
        for slot in self.tape:
            e, n = slot
            if n == 0:
                continue
            m = e.get("match", {})
            if "path" in m:
                if m["path"] != path:
                    continue
            elif path not in API_POST:
                continue
            b = body if isinstance(body, dict) else {}
            if "model" in m and b.get("model") != m["model"]:
                continue
            if "last_user_re" in m:
                u = last_user(b)
                if u is None or not re.search(m["last_user_re"], u):
                    continue
            if "last_role" in m:
                msgs = b.get("messages")
                last = msgs[-1] if isinstance(msgs, list) and msgs else None
                if not isinstance(last, dict) or last.get("role") != m["last_role"]:
                    continue
            if "contains" in m:
                hay = canonical(b.get("messages") if "messages" in b else b.get("input"))
                if m["contains"] not in hay:
                    continue
            if n > 0:
                slot[1] = n - 1
            return e
        return None

    def write_log(self, rec):
        if self.log:
            self.log.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.log.flush()


class Reply:
    """What to do with a request: status, headers, body, or a fault."""

    def __init__(self, status=200, body=b"", ctype="application/json", headers=None, delay=0.0, fault=None):
        self.action = fault if fault in ("drop", "hang") else None  # no HTTP reply at all
        self.status = status
        self.body = body
        self.ctype = ctype
        self.headers = dict(headers or {})
        self.delay = delay
        self.fault = fault


def json_reply(status, obj, headers=None):
    return Reply(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), headers=headers)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # headers and body leave in separate writes: without this, Nagle and
        # the client's delayed ACK add ~40 ms to every keep-alive reply
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server_version = "fake-openai/1"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    # --- plumbing ---
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send(self, r):
        self.send_response(r.status)
        self.send_header("Content-Type", r.ctype)
        self.send_header("Content-Length", str(len(r.body)))
        for k, v in r.headers.items():
            self.send_header(k, str(v))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(r.body)
        self.wfile.flush()

    def drop(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def hang(self):
        """Wait until the client goes away or the server stops."""
        self.close_connection = True
        conn = self.connection
        while not STOP.is_set():
            try:
                r, _, _ = select.select([conn], [], [], 0.1)
                if r:
                    if not conn.recv(4096, socket.MSG_PEEK):
                        return
                    time.sleep(0.1)
            except (OSError, ValueError):
                return

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    # --- requests ---
    def dispatch(self):
        st = self.server.state
        path = urlsplit(self.path).path
        raw = self.read_body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if path.startswith("/__fake/"):
            return self.send(self.control(path, raw))

        auth = self.headers.get("Authorization")
        rec = {"method": self.command, "path": path,
               "auth_present": auth is not None or self.headers.get("api-key") is not None,
               "auth_scheme": auth.split(None, 1)[0] if auth and auth.split() else None,
               "headers_subset": {k: self.headers[k] for k in LOGGED_HEADERS if self.headers.get(k) is not None},
               "body": body, "body_sha256": hashlib.sha256(raw).hexdigest(),
               "model": body.get("model") if isinstance(body, dict) else None}
        with st.lock:
            st.inflight += 1
            st.peak = max(st.peak, st.inflight)
            st.requests += 1
            st.seq += 1
            rec = {"seq": st.seq, "t": time.time(), **rec}
            try:
                r = self.decide(st, path, raw, body)
            except TapeError as e:
                r = json_reply(500, {"error": {"message": "fake: %s" % e}})
            rec["status"] = 0 if r.action else r.status
            if r.fault:
                rec["fault"] = r.fault
            serving = [path in API_POST and r.fault != "inflight"]
            if serving[0]:
                st.serving += 1
                st.peak_served = max(st.peak_served, st.serving)
            st.write_log(rec)

        def served():
            # a real server frees the slot when the reply is made, before
            # the client has read it: a client that sends again at once
            # must find room
            with st.lock:
                if serving[0]:
                    st.serving -= 1
                    serving[0] = False

        try:
            if r.delay > 0 and STOP.wait(r.delay):
                return self.drop()
            if r.action == "drop":
                return self.drop()
            if r.action == "hang":
                return self.hang()
            served()
            self.send(r)
        finally:
            served()
            with st.lock:
                st.inflight -= 1

    def decide(self, st, path, raw, body):
        """The reply to an API request (state lock held)."""
        a = st.args
        if path.startswith(("/v1/files", "/v1/batches")):
            return fake_batch.route(self, st, path, raw, body)
        shaped = st.shape.before(self.command, path, body)
        if shaped is not None:
            return shaped
        known = (path in API_POST and self.command == "POST") or (path in API_GET and self.command == "GET")
        if not known:
            return json_reply(404, {"error": {"message": "fake: no route %s %s" % (self.command, path),
                                              "type": "invalid_request_error", "param": None, "code": None}})
        if a.max_inflight and path in API_POST and st.serving >= a.max_inflight:
            st.rejected_inflight += 1
            headers = {}
            if a.over_inflight_retry_after is not None:
                headers["Retry-After"] = a.over_inflight_retry_after
            if a.over_inflight_status == 429:
                r = json_reply(429, {"error": {"message": "Rate limit reached: %d requests at once (fake: "
                                                          "--max-inflight)" % a.max_inflight,
                                               "type": "requests", "param": None,
                                               "code": "rate_limit_exceeded"}}, headers=headers)
            else:
                r = json_reply(503, {"error": OLLAMA_BUSY}, headers=headers)
            r.fault = "inflight"
            return r
        rl_headers = {}
        if a.rpm and path in API_POST:
            ok, rl_headers = st.rpm_take()
            if not ok:
                st.rejected_rpm += 1
                r = json_reply(429, {"error": {"message": "Rate limit reached for requests (fake: --rpm %d)" % a.rpm,
                                               "type": "requests", "param": None, "code": "rate_limit_exceeded"}},
                               headers=dict(rl_headers, **{"Retry-After": "1"}))
                r.fault = "rpm"
                return r
        if a.fail_rate > 0 and path in API_POST and st.rng.random() < a.fail_rate:
            kind = st.injected % 3
            st.injected += 1
            if kind == 2:
                r = Reply(fault="drop")
            else:
                status = 500 if kind == 0 else 503
                r = json_reply(status, {"error": {"message": "fake: injected failure", "type": "server_error",
                                                  "param": None, "code": None}})
            r.fault = "injected"
            r.delay = a.latency_ms / 1000.0
            return r
        if path in API_POST and not isinstance(body, dict):
            return json_reply(400, {"error": {"message": "fake: the body is not a JSON object",
                                              "type": "invalid_request_error", "param": None, "code": None}})
        e = st.match(path, body)
        if e is not None:
            r = self.from_tape(st, path, body, e)
        elif path == MODELS:
            r = json_reply(200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "created": 0,
                                                            "owned_by": "fake"}]})
        elif path == HEALTH:
            r = json_reply(200, {"status": "ok"})
        elif a.echo:
            r = self.echo(st, path, body)
        else:
            r = json_reply(500, {"error": {"message": "fake: tape exhausted"}})
        st.shape.after(path, body, r)
        r.headers = dict(rl_headers, **r.headers)
        r.delay += a.latency_ms / 1000.0
        return r

    def echo(self, st, path, body):
        if path == EMBED:
            return self.embeddings(body, None, {})
        return self.chat(st, body, {"content": echo_content(body)}, {})

    def from_tape(self, st, path, body, e):
        status = e.get("status")
        if e.get("drop"):
            r = Reply(fault="drop")
        elif e.get("hang"):
            r = Reply(fault="hang")
        elif "json" in e:
            r = json_reply(200 if status is None else status, e["json"])
        elif "raw" in e:
            r = Reply(200 if status is None else status, str(e["raw"]).encode("utf-8"))
        elif "reply_shape" in e:
            r = json_reply(200 if status is None else status, reply_shape_body(st, body, e))
        elif "error_style" in e or (status is not None and status >= 400 and "reply" not in e):
            status = default_error_status(e) if status is None else status
            ctype, data = error_body(e, status)
            r = Reply(status, data, ctype)
        else:
            reply = e.get("reply", {})
            if not isinstance(reply, dict):
                raise TapeError("reply is not an object")
            if path == EMBED:
                r = self.embeddings(body, reply, e)
            elif path == CHAT:
                r = self.chat(st, body, reply, e)
            else:
                r = json_reply(200, reply)
            if status is not None:
                r.status = status
        r.headers.update(e.get("headers") or {})
        r.delay = float(e.get("delay_ms", 0)) / 1000.0
        return r

    def chat(self, st, body, reply, e):
        msg = {"role": "assistant"}
        tcs = None
        if "tool_calls" in reply:
            tcs = []
            for tc in reply["tool_calls"] or []:
                fn = {"name": tc.get("name")}
                if "arguments_raw" in tc:
                    fn["arguments"] = tc["arguments_raw"]
                elif "arguments_obj" in tc:
                    fn["arguments"] = tc["arguments_obj"]
                else:
                    fn["arguments"] = json.dumps(tc.get("arguments", {}), ensure_ascii=False)
                out = {}
                if not tc.get("no_id"):
                    if "id" in tc:
                        out["id"] = tc["id"]
                    else:
                        st.call_n += 1
                        out["id"] = "call_%d" % st.call_n
                out["type"] = tc.get("type", "function")
                out["function"] = fn
                tcs.append(out)
        if "content" in reply:
            msg["content"] = reply["content"]
        else:
            msg["content"] = None if tcs is not None else ""
        if tcs is not None:
            msg["tool_calls"] = tcs
        for k in ("reasoning_content", "reasoning", "refusal"):
            if k in reply:
                msg[k] = reply[k]
        finish = reply.get("finish_reason", "tool_calls" if tcs else "stop")
        out = {"id": reply.get("id", "chatcmpl-fake-%d" % st.seq), "object": "chat.completion",
               "created": int(time.time()), "model": reply.get("model", body.get("model")),
               "choices": [{"index": 0, "message": msg, "finish_reason": finish, "logprobs": None}]}
        if not (reply.get("no_usage") or e.get("no_usage")):
            if "usage" in reply:
                out["usage"] = reply["usage"]
            else:
                c = len(msg["content"]) if isinstance(msg["content"], str) else 0
                for t in tcs or []:
                    a = t["function"]["arguments"]
                    c += len(a) if isinstance(a, str) else len(canonical(a))
                for k in ("reasoning_content", "reasoning"):
                    if isinstance(msg.get(k), str):
                        c += len(msg[k])
                p, q = tokens(prompt_chars(body)), tokens(c)
                out["usage"] = {"prompt_tokens": p, "completion_tokens": q, "total_tokens": p + q}
        return json_reply(200, out)

    def embeddings(self, body, reply, e):
        reply = reply or {}
        inputs = embed_inputs(body)
        dim = body.get("dimensions")
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            dim = self.server.state.args.embed_dim
        vecs = reply.get("embeddings")
        if vecs is None:
            vecs = [echo_vector(s, dim) for s in inputs]
        out = {"object": "list",
               "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vecs)],
               "model": reply.get("model", body.get("model"))}
        if not (reply.get("no_usage") or e.get("no_usage")):
            p = sum(tokens(len(s)) for s in inputs)
            out["usage"] = reply.get("usage", {"prompt_tokens": p, "total_tokens": p})
        return json_reply(200, out)

    # --- control ---
    def control(self, path, raw):
        st = self.server.state
        if path == "/__fake/stats" and self.command == "GET":
            return json_reply(200, st.stats())
        if path == "/__fake/reset" and self.command == "POST":
            try:
                st.reset()
            except (OSError, TapeError) as e:
                return json_reply(400, {"error": {"message": "fake: %s" % e}})
            return json_reply(200, {"ok": True, "entries": len(st.tape)})
        if path == "/__fake/shape" and self.command == "POST":
            try:
                shape = Shape(json.loads(raw.decode("utf-8") or "{}"))
            except (ValueError, TypeError, UnicodeDecodeError) as e:
                return json_reply(400, {"error": {"message": "fake: shape: %s" % e}})
            with st.lock:
                st.shape = shape
            return json_reply(200, {"ok": True})
        if path == "/__fake/tape" and self.command == "POST":
            try:
                tape = parse_tape(raw.decode("utf-8"))
            except (TapeError, UnicodeDecodeError) as e:
                return json_reply(400, {"error": {"message": "fake: %s" % e}})
            with st.lock:
                st.tape = tape
            return json_reply(200, {"ok": True, "entries": len(tape)})
        return json_reply(404, {"error": {"message": "fake: no control route %s %s" % (self.command, path)}})

# --- REPLY SHAPES: replies worded as the real servers word them ----------------
#
# A tape entry {"reply_shape": NAME, "text", "reasoning", "calls": [{"name",
# "arguments"}], "format", "server", "model"} says what the model produced
# (its answer, its thinking, its tool calls); the shape says how a given
# server, configured a given way, puts that on the wire: which fields, which
# nulls, where the reasoning goes, whether the calls were parsed.  Facts from
# each server's own source (vLLM protocol.py and its reasoning and tool
# parsers, llama.cpp server-common.cpp and chat.cpp, SGLang serving_chat.py,
# TGI router/src/lib.rs).
#
#   vllm-think-unclosed    vLLM cut inside <think> with no reasoning parser, or
#                          with the Qwen3 parser before its fix: the thinking,
#                          tag and all, in content; finish_reason length
#   vllm-reasoning-cut     the same cut after the fix: content null, all of it
#                          in reasoning; finish_reason length
#   vllm-answer-in-reasoning  thinking off under the deepseek_r1 parser: the
#                          answer in reasoning_content, content null
#   vllm-both-reasoning    reasoning and reasoning_content both filled
#   llamacpp-none          llama-server --reasoning-format none: <think> left
#                          in content (with "cut": true, cut inside it)
#   llamacpp-deepseek-cut  --reasoning-format deepseek cut while thinking:
#                          reasoning_content only, content ""
#   llamacpp-deepseek-legacy  reasoning both in reasoning_content and inline
#   text-tool-calls        no tool parser (or the wrong one, or one that failed):
#                          the calls stay in content in "format" (hermes,
#                          qwen3_coder, mistral, mistral_v11, llama_json,
#                          hermes_broken); "server" picks the envelope (sglang,
#                          vllm, llamacpp)
#   tgi-tool-calls         TGI: no content key, every call id "0", arguments
#                          an object


def _markup(calls, fmt):
    """The calls as the model writes them when no parser takes them out."""
    out = []
    if fmt == "hermes":
        for c in calls:
            out.append("<tool_call>\n%s\n</tool_call>" % json.dumps(
                {"name": c["name"], "arguments": c.get("arguments", {})}, ensure_ascii=False))
        return "\n".join(out)
    if fmt == "hermes_broken":  # a parser that failed on it leaves it as it was
        return '<tool_call>\n{"name": "%s", "arguments": {"command": "ls"\n</tool_call>' % calls[0]["name"]
    if fmt == "qwen3_coder":
        for c in calls:
            params = "".join("<parameter=%s>\n%s\n</parameter>\n" % (k, v if isinstance(v, str) else json.dumps(v))
                             for k, v in c.get("arguments", {}).items())
            out.append("<tool_call>\n<function=%s>\n%s</function>\n</tool_call>" % (c["name"], params))
        return "\n".join(out)
    if fmt == "mistral":
        return "[TOOL_CALLS]" + json.dumps([{"name": c["name"], "arguments": c.get("arguments", {})} for c in calls],
                                           ensure_ascii=False)
    if fmt == "mistral_v11":
        return "".join("[TOOL_CALLS]%s[ARGS]%s" % (c["name"], json.dumps(c.get("arguments", {}), ensure_ascii=False))
                       for c in calls)
    if fmt == "llama_json":
        return "; ".join(json.dumps({"name": c["name"], "parameters": c.get("arguments", {})}, ensure_ascii=False)
                         for c in calls)
    raise TapeError("unknown text tool-call format %r" % fmt)


def _usage(body, completion_chars, cut):
    p = tokens(prompt_chars(body))
    q = tokens(completion_chars)
    if cut and isinstance(body.get("max_tokens"), int):
        q = body["max_tokens"]  # a cut reply used all it was allowed
    return p, q


def _envelope(server, st, body, e, msg, finish, chars):
    """The whole body around one message, in server's wording."""
    model = e.get("model", body.get("model"))
    p, q = _usage(body, chars, finish == "length")
    now = int(time.time())
    if server == "vllm":
        full = {"role": "assistant", "content": None, "refusal": None, "annotations": None, "audio": None,
                "function_call": None, "tool_calls": [], "reasoning": None, "reasoning_content": None}
        full.update(msg)
        return {"id": "chatcmpl-%032x" % st.seq, "object": "chat.completion", "created": now, "model": model,
                "choices": [{"index": 0, "message": full, "logprobs": None, "finish_reason": finish,
                             "stop_reason": None}],
                "service_tier": None, "system_fingerprint": None,
                "usage": {"prompt_tokens": p, "total_tokens": p + q, "completion_tokens": q,
                          "prompt_tokens_details": None},
                "prompt_logprobs": None, "kv_transfer_params": None}
    if server == "sglang":
        full = {"role": "assistant", "content": None, "reasoning_content": None, "tool_calls": None}
        full.update(msg)
        return {"id": "%032x" % st.seq, "object": "chat.completion", "created": now, "model": model,
                "choices": [{"index": 0, "message": full, "logprobs": None, "finish_reason": finish,
                             "matched_stop": 151645 if finish == "stop" else None}],
                "usage": {"prompt_tokens": p, "total_tokens": p + q, "completion_tokens": q,
                          "prompt_tokens_details": None},
                "metadata": {"weight_version": "default"}}
    if server == "llamacpp":
        full = {"role": "assistant"}
        if msg.get("reasoning_content"):
            full["reasoning_content"] = msg["reasoning_content"]
        full["content"] = msg.get("content") or ""
        return {"choices": [{"finish_reason": finish, "index": 0, "message": full}], "created": now,
                "model": model, "system_fingerprint": "b6400-fake", "object": "chat.completion",
                "usage": {"completion_tokens": q, "prompt_tokens": p, "total_tokens": p + q},
                "id": "chatcmpl-fake%d" % st.seq,
                "timings": {"prompt_n": p, "prompt_ms": 1.0, "predicted_n": q, "predicted_ms": 1.0}}
    if server == "tgi":
        return {"object": "chat.completion", "id": "", "created": now, "model": model,
                "system_fingerprint": "3.1.0-native",
                "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": finish}],
                "usage": {"prompt_tokens": p, "completion_tokens": q, "total_tokens": p + q}}
    raise TapeError("unknown server %r" % server)


def reply_shape_body(st, body, e):
    """The reply body of a "reply_shape" tape entry."""
    name = e["reply_shape"]
    text = e.get("text", "")
    thought = e.get("reasoning", "")
    calls = e.get("calls") or []
    if name == "vllm-think-unclosed":
        c = "<think>\n" + thought
        return _envelope("vllm", st, body, e, {"content": c}, "length", len(c))
    if name == "vllm-reasoning-cut":
        return _envelope("vllm", st, body, e, {"content": None, "reasoning": thought}, "length", len(thought))
    if name == "vllm-answer-in-reasoning":
        return _envelope("vllm", st, body, e, {"content": None, "reasoning_content": text}, "stop", len(text))
    if name == "vllm-both-reasoning":
        return _envelope("vllm", st, body, e, {"content": text, "reasoning": thought, "reasoning_content": thought},
                         "stop", len(text) + len(thought))
    if name == "llamacpp-none":
        if e.get("cut"):
            c, finish = "<think>\n" + thought, "length"
        else:
            c, finish = "<think>\n%s\n</think>\n\n%s" % (thought, text), "stop"
        return _envelope("llamacpp", st, body, e, {"content": c}, finish, len(c))
    if name == "llamacpp-deepseek-cut":
        return _envelope("llamacpp", st, body, e, {"content": "", "reasoning_content": thought}, "length",
                         len(thought))
    if name == "llamacpp-deepseek-legacy":
        c = "<think>\n%s\n</think>\n\n%s" % (thought, text)
        return _envelope("llamacpp", st, body, e, {"content": c, "reasoning_content": thought}, "stop",
                         len(c) + len(thought))
    if name == "text-tool-calls":
        fmt = e.get("format", "hermes")
        mark = _markup(calls, fmt)
        c = mark if fmt == "llama_json" or not text else text + "\n\n" + mark
        return _envelope(e.get("server", "sglang"), st, body, e, {"content": c}, "stop", len(c))
    if name == "tgi-tool-calls":
        tcs = [{"id": "0", "type": "function",
                "function": {"description": None, "name": c["name"], "arguments": c.get("arguments", {})}}
               for c in calls]
        return _envelope("tgi", st, body, e, {"role": "assistant", "tool_calls": tcs}, "eos_token",
                         sum(len(canonical(c.get("arguments", {}))) for c in calls))
    raise TapeError("unknown reply_shape %r" % name)


# --- server shapes (POST /__fake/shape): what real servers do beyond a reply ---


def llama_error(status, message, etype, **more):
    err = {"code": status, "message": message, "type": etype}
    err.update(more)
    return json_reply(status, {"error": err})


class Shape:
    """Behaviours of real servers, set by POST /__fake/shape (see SHAPES)."""

    def __init__(self, conf=None):
        conf = dict(conf or {})
        if not isinstance(conf, dict):
            raise TypeError("the shape is not an object")
        self.conf = conf
        self.loading_s = float(conf.get("loading_s", 0))
        self.loading_until = None  # set by the first request

    def window(self):
        """(window, style) of the context check, or (None, None)."""
        c = self.conf
        if c.get("max_model_len"):
            return int(c["max_model_len"]), "vllm"
        if c.get("n_ctx"):
            return int(c["n_ctx"]) // int(c.get("parallel", 1)), "llamacpp"
        return None, None

    @staticmethod
    def prompt_tokens(body):
        return tokens(len(canonical(body.get("messages"))) + len(canonical(body.get("tools") or [])))

    def before(self, command, path, body):
        """A reply that comes before the tape's, or None."""
        c = self.conf
        if not c:
            return None
        if self.loading_until is None:
            self.loading_until = time.monotonic() + self.loading_s
        if time.monotonic() < self.loading_until and (path == HEALTH or command == "POST"):
            return llama_error(503, "Loading model", "unavailable_error")
        if path == MODELS and command == "GET" and ("max_model_len" in c or "served_model" in c):
            card = {"id": c.get("served_model", "fake-model"), "object": "model", "created": 0,
                    "owned_by": "vllm", "root": c.get("served_model", "fake-model"), "parent": None}
            if "max_model_len" in c:
                card["max_model_len"] = int(c["max_model_len"])
            return json_reply(200, {"object": "list", "data": [card]})
        if path == "/props" and command == "GET" and "n_ctx" in c:
            slots = int(c.get("parallel", 1))
            return json_reply(200, {"default_generation_settings": {"n_ctx": int(c["n_ctx"]) // slots,
                                                                    "params": {}},
                                    "total_slots": slots, "model_path": "fake.gguf"})
        if path == CHAT and command == "POST" and isinstance(body, dict):
            window, style = self.window()
            if window:
                p = self.prompt_tokens(body)
                asked = body.get("max_tokens") or body.get("max_completion_tokens") or 0
                if style == "vllm" and p + asked > window:
                    return json_reply(400, {"error": {
                        "message": "This model's maximum context length is %d tokens. However, you requested "
                                   "%d output tokens and your prompt contains at least %d input tokens, for a "
                                   "total of at least %d tokens. Please reduce the length of the input prompt "
                                   "or the number of requested output tokens." % (window, asked, p, p + asked),
                        "type": "BadRequestError", "param": None, "code": 400}})
                if style == "llamacpp" and p >= window:
                    return llama_error(400, "request (%d tokens) exceeds the available context size (%d tokens), "
                                       "try increasing it" % (p, window), "exceed_context_size_error",
                                       n_prompt_tokens=p, n_ctx=window)
        if path == EMBED and command == "POST" and isinstance(body, dict):
            if c.get("no_embeddings"):
                return llama_error(501, "This server does not support embeddings. Start it with `--embeddings`",
                                   "not_supported_error")
            inputs = embed_inputs(body)
            if c.get("embed_max_batch") and len(inputs) > int(c["embed_max_batch"]):
                return json_reply(422, {"message": "batch size %d > maximum allowed batch size %d"
                                        % (len(inputs), int(c["embed_max_batch"])), "code": 422,
                                        "type": "Validation"})
            if c.get("embed_max_chars"):
                longest = max([len(x) for x in inputs] or [0])
                if longest > int(c["embed_max_chars"]):
                    status = int(c.get("embed_too_long_status", 413))
                    return json_reply(status, {"message": "Input validation error: `inputs` must have less "
                                               "than %d tokens. Given: %d" % (int(c["embed_max_chars"]) // 4,
                                                                             tokens(longest)),
                                               "code": status, "type": "Validation"})
        return None

    def after(self, path, body, r):
        """Adjust a 200 reply made by the tape or the echo."""
        if r.status != 200 or not r.body or not isinstance(body, dict):
            return
        c = self.conf
        try:
            out = json.loads(r.body)
        except ValueError:
            return
        if not isinstance(out, dict):
            return
        if path == CHAT and self.window()[0] and isinstance(out.get("usage"), dict):
            p = self.prompt_tokens(body)
            q = out["usage"].get("completion_tokens", 0)
            out["usage"].update({"prompt_tokens": p, "total_tokens": p + q})
        elif path == EMBED and isinstance(out.get("data"), list):
            b64 = c.get("embed_base64") or body.get("encoding_format") == "base64"
            for item in out["data"]:
                if not isinstance(item, dict):
                    continue
                if c.get("embed_no_index"):
                    item.pop("index", None)
                if b64 and isinstance(item.get("embedding"), list):
                    raw = struct.pack("<%df" % len(item["embedding"]), *item["embedding"])
                    item["embedding"] = base64.b64encode(raw).decode("ascii")
        else:
            return
        r.body = json.dumps(out, ensure_ascii=False).encode("utf-8")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # a client that went away mid-reply is not our problem


fake_batch.host = sys.modules[__name__]


def main():
    p = argparse.ArgumentParser(description="A fake OpenAI-compatible server for tests.")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tape")
    p.add_argument("--log")
    p.add_argument("--echo", action="store_true")
    p.add_argument("--rpm", type=int, default=0)
    p.add_argument("--max-inflight", type=int, default=0)
    p.add_argument("--over-inflight-status", type=int, choices=(503, 429), default=503)
    p.add_argument("--over-inflight-retry-after")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--fail-rate", type=float, default=0.0)
    p.add_argument("--fail-seed", type=int, default=0)
    p.add_argument("--embed-dim", type=int, default=8)
    p.add_argument("--batch-step-ms", type=float, default=1.0)
    p.add_argument("--batch-expire-after", type=int, default=-1)
    p.add_argument("--batch-create-hang", type=int, default=0)
    p.add_argument("--batch-list-page", type=int, default=0)
    args = p.parse_args()
    if args.embed_dim <= 0 or args.rpm < 0 or args.max_inflight < 0 or not 0.0 <= args.fail_rate <= 1.0:
        p.error("bad --embed-dim, --rpm, --max-inflight or --fail-rate")
    try:
        state = State(args)
    except (OSError, TapeError) as e:
        print("fake_openai: %s" % e, file=sys.stderr)
        return 2

    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = state
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, args.port_file)

    def stop(signum, frame):
        STOP.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    while not STOP.wait(0.1):
        pass
    srv.shutdown()
    srv.server_close()
    with state.lock:
        if state.log:
            state.log.close()
            state.log = None
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
