"""The Files and Batches endpoints of the fake OpenAI server (fake_openai.py).

    POST /v1/files                 multipart: purpose=batch, file=@requests.jsonl
    GET  /v1/files/{id}            the file object: bytes, created_at, filename
    GET  /v1/files/{id}/content    the file's bytes
    POST /v1/batches               {input_file_id, endpoint, completion_window,
                                   metadata (optional: up to 16 string pairs)}
    GET  /v1/batches?limit=N&after=ID   a page of the batches, newest first:
                                   {object: list, data, first_id, last_id,
                                   has_more}; limit 1 to 100, default 20
                                   (at most --batch-list-page N, to make
                                   a client follow the pages)
    GET  /v1/batches/{id}          the batch object: status, request_counts,
                                   output_file_id, error_file_id, metadata
    POST /v1/batches/{id}/cancel   cancelling, then cancelled

A batch is "validating", then "in_progress" while a thread answers its
requests one at a time, each with the server's normal chat-completions logic
(tape, --echo, --fail-rate), --batch-step-ms apart; then "completed".  With
--batch-expire-after N it stops after N requests as "expired".  The output
file holds the 200 replies, in reverse order (an output file keeps none);
the error file the rest (non-200, dropped) and, for an expired or cancelled
batch, every request not run, with error code batch_expired or
batch_cancelled.  With --batch-create-hang N the first N creates make their
batch (it runs) but never answer, until the client goes away: a client
killed or timed out after the server made the batch, before it heard of it.
The requests of a batch are not logged; the HTTP requests to these routes
are, as any other."""
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

host = None  # the fake_openai module, set by it: json_reply, Reply, Handler, STOP, CHAT
FILES = {}  # id: the file object
DATA = {}  # id: the file's bytes
BATCHES = {}
_ids = [0]
_hung = [0]  # creates left unanswered so far (--batch-create-hang)


def reset_counters():
    """Zero the creates left unanswered, for __fake/reset (files and batches stay)."""
    _hung[0] = 0


def _next_id(prefix):
    _ids[0] += 1
    return "%s-fake-%d" % (prefix, _ids[0])


def _reply(status, obj):
    return host.json_reply(status, obj)


def _error(status, message):
    return _reply(status, {"error": {"message": message, "type": "invalid_request_error", "param": None,
                                     "code": None}})


def _multipart(handler, raw):
    """{name: (filename, bytes)} of a multipart/form-data body."""
    ctype = handler.headers.get("Content-Type", "")
    if "boundary=" not in ctype:
        return None
    boundary = ctype.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
    parts = {}
    for chunk in raw.split(b"--" + boundary):
        if b"\r\n\r\n" not in chunk:
            continue
        head, data = chunk.split(b"\r\n\r\n", 1)
        if data.endswith(b"\r\n"):
            data = data[:-2]
        disp = [h for h in head.decode("utf-8", "replace").split("\r\n")
                if h.lower().startswith("content-disposition")]
        if not disp:
            continue
        fields = dict(f.strip().split("=", 1) for f in disp[0].split(";")[1:] if "=" in f)
        name = fields.get("name", "").strip('"')
        parts[name] = (fields.get("filename", "").strip('"') or None, data)
    return parts


def _batch_view(b):
    keys = ("id", "object", "endpoint", "input_file_id", "completion_window", "status", "output_file_id",
            "error_file_id", "created_at", "request_counts", "metadata")
    return {k: b.get(k) for k in keys}


def _store(lines):
    fid = _next_id("file")
    DATA[fid] = "".join(json.dumps(x) + "\n" for x in lines).encode("utf-8")
    FILES[fid] = {"id": fid, "object": "file", "bytes": len(DATA[fid]), "created_at": int(time.time()),
                  "filename": fid + ".jsonl", "purpose": "batch_output"}
    return fid


def _run(server, b, requests):
    """Answer the batch's requests one by one (a thread of its own)."""
    Handler, STOP, CHAT = host.Handler, host.STOP, host.CHAT
    st = server.state
    a = st.args
    proxy = Handler.__new__(Handler)
    proxy.command = "POST"
    proxy.server = server
    done, errors = [], []
    time.sleep(a.batch_step_ms / 1000.0)
    b["status"] = "in_progress"
    for n, req in enumerate(requests):
        if b["status"] == "cancelling" or STOP.is_set():
            break
        if a.batch_expire_after >= 0 and n >= a.batch_expire_after:
            b["status"] = "expired"
            break
        time.sleep(a.batch_step_ms / 1000.0)
        body = req.get("body")
        raw = json.dumps(body).encode("utf-8")
        with st.lock:
            r = proxy.decide(st, CHAT, raw, body)
        line = {"id": "batch_req_%d" % n, "custom_id": req.get("custom_id"), "error": None}
        if r.action:
            line["response"] = None
            line["error"] = {"code": "server_error", "message": "fake: the request was dropped"}
        else:
            line["response"] = {"status_code": r.status, "request_id": "req_%d" % n,
                                "body": json.loads(r.body.decode("utf-8"))}
        ok = r.action is None and r.status == 200
        (done if ok else errors).append(line)
        b["request_counts"]["completed" if ok else "failed"] += 1
    left = requests[len(done) + len(errors):]
    if left:
        code = "batch_cancelled" if b["status"] == "cancelling" else "batch_expired"
        for req in left:
            errors.append({"id": "batch_req_x", "custom_id": req.get("custom_id"), "response": None,
                           "error": {"code": code, "message": "This line could not be executed before the "
                                     "batch %s." % ("was cancelled" if code == "batch_cancelled" else "expired")}})
    b["output_file_id"] = _store(list(reversed(done))) if done else None
    b["error_file_id"] = _store(list(reversed(errors))) if errors else None
    b["status"] = {"cancelling": "cancelled", "expired": "expired"}.get(b["status"], "completed")


def _list(handler):
    """A page of GET /v1/batches: newest first, limit, after (the last id of the page before)."""
    query = parse_qs(urlsplit(handler.path).query)
    try:
        limit = int(query.get("limit", ["20"])[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        return _error(400, "fake: limit is 1 to 100")
    order = list(reversed(list(BATCHES)))
    after = query.get("after", [None])[0]
    if after is not None:
        if after not in BATCHES:
            return _error(400, "fake: no batch %s to list after" % after)
        order = order[order.index(after) + 1:]
    if handler.server.state.args.batch_list_page > 0:
        limit = min(limit, handler.server.state.args.batch_list_page)
    page = [_batch_view(BATCHES[i]) for i in order[:limit]]
    return _reply(200, {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
                        "last_id": page[-1]["id"] if page else None, "has_more": len(order) > limit})


def route(handler, st, path, raw, body):
    """The reply to a Files or Batches request (state lock held)."""
    method = handler.command
    parts = path.strip("/").split("/")  # v1 files ID content | v1 batches ID cancel
    if parts[1] == "files":
        if method == "POST" and len(parts) == 2:
            form = _multipart(handler, raw)
            if not form or "file" not in form or form.get("purpose", (None, b""))[1] != b"batch":
                return _error(400, "fake: a file upload needs purpose=batch and file")
            fid = _next_id("file")
            FILES[fid] = {"id": fid, "object": "file", "bytes": len(form["file"][1]),
                          "created_at": int(time.time()), "filename": form["file"][0], "purpose": "batch"}
            DATA[fid] = form["file"][1]
            return _reply(200, FILES[fid])
        if method == "GET" and len(parts) == 3:
            f = FILES.get(parts[2])
            if not f:
                return _error(404, "No such File object: %s" % parts[2])
            return _reply(200, f)
        if method == "GET" and len(parts) == 4 and parts[3] == "content":
            if parts[2] not in FILES:
                return _error(404, "No such File object: %s" % parts[2])
            return host.Reply(200, DATA[parts[2]], "application/octet-stream")
        return _error(404, "fake: no route %s %s" % (method, path))
    if method == "POST" and len(parts) == 2:
        if not isinstance(body, dict) or body.get("endpoint") != "/v1/chat/completions" or \
                body.get("completion_window") != "24h" or body.get("input_file_id") not in FILES:
            return _error(400, "fake: a batch needs input_file_id (an uploaded file), endpoint "
                          "/v1/chat/completions and completion_window 24h")
        try:
            requests = [json.loads(x) for x in DATA[body["input_file_id"]].decode("utf-8").splitlines()
                        if x.strip()]
        except ValueError:
            return _error(400, "fake: the input file is not JSON Lines")
        meta = body.get("metadata")
        if meta is not None and not (isinstance(meta, dict) and len(meta) <= 16 and all(
                isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
                for k, v in meta.items())):
            return _error(400, "fake: metadata is up to 16 pairs of strings (keys up to 64 "
                          "characters, values up to 512)")
        bid = _next_id("batch")
        b = {"id": bid, "object": "batch", "endpoint": body["endpoint"], "input_file_id": body["input_file_id"],
             "completion_window": "24h", "status": "validating", "output_file_id": None, "error_file_id": None,
             "created_at": int(time.time()), "metadata": meta,
             "request_counts": {"total": len(requests), "completed": 0, "failed": 0}}
        BATCHES[bid] = b
        threading.Thread(target=_run, args=(handler.server, b, requests), daemon=True).start()
        if _hung[0] < st.args.batch_create_hang:
            _hung[0] += 1
            return host.Reply(fault="hang")
        return _reply(200, _batch_view(b))
    if method == "GET" and len(parts) == 2:
        return _list(handler)
    b = BATCHES.get(parts[2]) if len(parts) >= 3 else None
    if b is None:
        return _error(404, "No such Batch object: %s" % (parts[2] if len(parts) >= 3 else ""))
    if method == "GET" and len(parts) == 3:
        return _reply(200, _batch_view(b))
    if method == "POST" and len(parts) == 4 and parts[3] == "cancel":
        if b["status"] in ("validating", "in_progress"):
            b["status"] = "cancelling"
        return _reply(200, _batch_view(b))
    return _error(404, "fake: no route %s %s" % (method, path))
