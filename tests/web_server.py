#!/usr/bin/env python3
"""A small HTTP server for tests/web.bats (standard library only).

    web_server.py --port-file F [--log L] [--bind ADDR]...

Binds every ADDR (default 127.0.0.1 and ::1) on one port, chosen by the
kernel, writes the port to F once all are bound (F.tmp, then rename), and
serves until SIGTERM.  ADDR :: binds every address, IPv4 too (for a test
network namespace).  Each request is one JSON line in L: {method, path,
headers, body_bytes, sent}.

Routes (GET unless said):
  /page            HTML in ISO-8859-1 (charset in Content-Type) with a
                   title, script, style, noscript, comments, entities, lists,
                   links, a table and a pre block
  /page-1252       windows-1252 text/html with curly quotes and a euro sign
  /page-meta       ISO-8859-1 HTML whose charset is only in a <meta>
  /bad-utf8        text/plain; charset=utf-8 with invalid bytes
  /text            text/plain, CRLF line ends
  /json            application/json
  /octet-text      application/octet-stream holding text
  /binary          image/png
  /status?code=N   HTML error page with status N
  /redirect?to=URL 302 to URL;  /redirect?n=K  K hops, then /page
  /slow            200, then one byte a second for a minute (slow loris)
  /huge?bytes=N    N bytes of text/plain, Content-Length announced
  /gzip-bomb?mib=N Content-Encoding: gzip, N MiB of 'A' (default 64) in a
                   small compressed body
  /links/ANY?n=N   N relative links (that resolve against the long path)
  /search          SearXNG JSON: results for q (count=N results, default
                   12); 403 without format=json as SearXNG does
  /search-broken   200 text/html instead of JSON
  /search-empty    SearXNG JSON with no results
  /echo            any method: JSON {method, path, query, headers, body}
                   (HEAD: headers only); ?sleep=S waits S seconds first
"""

import argparse
import gzip
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = (
    b"<!DOCTYPE html>\n<html><head>\n"
    b'<meta name="viewport" content="width=device-width">\n'
    b"<title>Caf\xe9 &amp; Cr\xe8me</title>\n"
    b"<style>body { color: red; } .STYLE-TEXT { display: none }</style>\n"
    b'<script>var s = "SCRIPT-TEXT"; if (a < b) document.write("</div>");</script>\n'
    b"</head>\n<body>\n<noscript>NOSCRIPT-TEXT</noscript>\n"
    b"<h1>Caf\xe9   menu</h1>\n"
    b"<p>Fish &amp; chips &lt;fresh&gt; &#8212; &#x263A; &eacute;l&egrave;ve&nbsp;ok &copy; 2024"
    b" &#150; &bogus; &#0; 5 &lt 6</p>\n"
    b"<ul>\n  <li>One</li>\n  <li>Two <a href=\"/other?x=1&amp;y=2\">other\n page</a></li>\n"
    b"  <li>Nested<ul><li>Inner</li></ul></li>\n</ul>\n"
    b"<ol><li>First</li><li>Second</li></ol>\n"
    b"<h2>Links</h2>\n"
    b'<p>See <a href="https://example.org/docs">the docs</a>   and\n   <a href="#top">top</a>'
    b' and <a href="javascript:void(0)">js</a><a href="/empty"></a>.</p>\n'
    b"<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>\n"
    b"<pre>\n  indented\n    code &lt;x&gt;</pre>\n"
    b"<p>Inline <code>make check</code><br>next line</p>\n"
    b"<!-- COMMENT-TEXT <p>not this</p> -->\n"
    b"<svg><text>SVG-TEXT</text></svg><template>TEMPLATE-TEXT</template>\n"
    b"</body></html>\n"
)

PAGE_1252 = (
    b"<html><head><title>Quotes</title></head><body><p>\x93quoted\x94 \x80 5 \x96 6"
    b" na\xefve</p></body></html>"
)

PAGE_META = (
    b'<html><head><meta charset="iso-8859-1"><title>Meta</title></head>'
    b"<body><p>Z\xfcrich \xbd</p></body></html>"
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)

_bombs = {}
_bomb_lock = threading.Lock()
_log_lock = threading.Lock()


def bomb(mib):
    with _bomb_lock:
        if mib not in _bombs:
            _bombs[mib] = gzip.compress(b"A" * (mib << 20), 9)
        return _bombs[mib]


class Handler(BaseHTTPRequestHandler):
    server_version = "web_server/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def log(self, body, sent):
        if not self.server.log_path:
            return
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_bytes": len(body),
            "sent": sent,
        }
        with _log_lock, open(self.server.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def reply(self, status, ctype, body, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return len(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        url = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        sent = 0
        try:
            sent = self.route(url.path, q, body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.log(body, sent)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def route(self, path, q, body):
        if path == "/page":
            return self.reply(200, "text/html; charset=ISO-8859-1", PAGE)
        if path == "/page-1252":
            return self.reply(200, "text/html; charset=windows-1252", PAGE_1252)
        if path == "/page-meta":
            return self.reply(200, "text/html", PAGE_META)
        if path == "/bad-utf8":
            return self.reply(200, "text/plain; charset=utf-8", b"ok \xff\xfe end \xc3\x28 \xe2\x82\xac")
        if path == "/text":
            return self.reply(200, "text/plain", b"line one\r\nline two\r\n")
        if path == "/json":
            return self.reply(200, "application/json", b'{"name":"ise","tags":["a","b"]}')
        if path == "/octet-text":
            return self.reply(200, "application/octet-stream", b"plain words\n")
        if path == "/binary":
            return self.reply(200, "image/png", PNG)
        if path == "/status":
            code = int(q.get("code", "404"))
            page = b"<html><head><title>Nope</title></head><body><h1>Not here</h1></body></html>"
            return self.reply(code, "text/html", page)
        if path == "/redirect":
            if "to" in q:
                target = q["to"]
            else:
                k = int(q.get("n", "1"))
                target = "/redirect?n=%d" % (k - 1) if k > 1 else "/page"
            return self.reply(302, "text/plain", b"moved\n", [("Location", target)])
        if path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            sent = 0
            for _ in range(60):
                self.wfile.write(b"x")
                self.wfile.flush()
                sent += 1
                time.sleep(1)
            return sent
        if path == "/huge":
            total = int(q.get("bytes", str(50 << 20)))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(total))
            self.end_headers()
            chunk = b"0123456789abcde\n" * 4096
            sent = 0
            while sent < total:
                part = chunk[: total - sent]
                self.wfile.write(part)
                sent += len(part)
            return sent
        if path == "/gzip-bomb":
            data = bomb(int(q.get("mib", "64")))
            return self.reply(200, "text/plain", data, [("Content-Encoding", "gzip")])
        if path == "/search":
            if q.get("format") != "json":
                return self.reply(403, "text/html", b"<h1>403 Forbidden</h1>")
            query = q.get("q", "")
            n = int(q.get("count", "12"))
            results = [
                {
                    "title": "Result %d for %s" % (i + 1, query),
                    "url": "https://example.org/%d" % (i + 1),
                    "content": "Snippet   number\n%d &amp; more" % (i + 1),
                    "engine": "fake",
                }
                for i in range(n)
            ]
            doc = {"query": query, "number_of_results": n, "results": results}
            return self.reply(200, "application/json", json.dumps(doc).encode())
        if path.startswith("/links/"):
            n = int(q.get("n", "1000"))
            return self.reply(200, "text/html", b"<p>" + b"<a href=a>b</a>\n" * n)
        if path == "/search-broken":
            return self.reply(200, "text/html", b"<html>not json</html>")
        if path == "/search-empty":
            return self.reply(200, "application/json", b'{"query":"x","results":[]}')
        if path == "/echo":
            if "sleep" in q:
                time.sleep(float(q["sleep"]))
            doc = {
                "method": self.command,
                "path": urlsplit(self.path).path,
                "query": q,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            return self.reply(200, "application/json", json.dumps(doc).encode(), [("X-Echo", "yes")])
        return self.reply(404, "text/plain", b"no such route\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, port, log_path):
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.log_path = log_path
        self.dual = addr == "::"
        super().__init__((addr, port), Handler)

    def server_bind(self):
        if self.dual:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def bind_all(addrs, log_path):
    for _ in range(20):
        servers = []
        try:
            port = 0
            for a in addrs:
                s = Server(a, port, log_path)
                port = s.server_address[1]
                servers.append(s)
            return servers, port
        except OSError:
            for s in servers:
                s.server_close()
    sys.exit("web_server: cannot bind %s on one port" % ", ".join(addrs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--bind", action="append")
    args = ap.parse_args()
    servers, port = bind_all(args.bind or ["127.0.0.1", "::1"], args.log)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(args.port_file + ".tmp", args.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()


if __name__ == "__main__":
    main()
