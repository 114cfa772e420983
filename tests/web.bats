#!/usr/bin/env bats
# lib/exec/web.c (web_fetch, web_search, http_request) through
# tests/unit/web_probe against tests/web_server.py: the address guard
# (lib/exec/addrguard.c) with every scheme and address form it must refuse,
# the caps, charsets and HTML to text (lib/exec/html.c), a fake SearXNG and
# an echo server.
#
# The guard refuses loopback, so most tests here pass --allow-private to
# reach the server on 127.0.0.1.  The guard itself is tested two ways:
# addresses the host has (127.0.0.1, ::1, localhost, 0.0.0.0, mapped forms)
# are refused by default and fetched with --allow-private, so it is the
# guard and nothing else that refuses them; and in a private network
# namespace (unshare -rnm), whose loopback also carries 192.0.2.1 (a public
# address as far as the guard is concerned), 10.20.30.40 and
# 169.254.169.254, with its own /etc/hosts bind-mounted (the host's file is
# never touched), a public first hop redirects to loopback, private and
# metadata addresses and a DNS name resolves to 10.x, all on a server that
# really answers there.  Nothing is weakened for the tests: no resolver
# override, no switch in lib/exec/web.c.
load helper

WEB_PY="$BATS_TEST_DIRNAME/web_server.py"
PROBE="$ISE_TESTPROGS/web_probe"

# server_start DIR [--bind ADDR]...: start web_server.py, wait for its port.
server_start() {
	local dir=$1 i
	shift
	mkdir -p "$dir"
	python3 "$WEB_PY" --port-file "$dir/port" --log "$dir/log" "$@" \
		</dev/null >"$dir/stdout" 2>"$dir/stderr" 3>&- &
	echo $! >"$dir/pid"
	for ((i = 0; i < 100; i++)); do
		[ -s "$dir/port" ] && return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "web_server.py did not start: $(cat "$dir/stderr")" >&2
	return 1
}

setup_file() {
	export SRV="$BATS_FILE_TMPDIR/srv"
	server_start "$SRV"
	PORT=$(cat "$SRV/port")
	export PORT URL="http://127.0.0.1:$PORT"
	# Proxies in the environment must change nothing: web.c never uses one
	# (through a proxy the guard would see only the proxy's address).  These
	# point at a closed port, so a tool that used them would fail.
	export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
	export HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9
	unset no_proxy NO_PROXY
}

teardown_file() {
	local pid
	pid=$(cat "$SRV/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# call NAME ARGS_JSON [web_probe options...]: one tool call; $output is the
# result line {known, ok, content, truncated, duration_ms, details}.
call() {
	local name=$1 args=$2
	shift 2
	run --separate-stderr "$PROBE" "$@" <<<"{\"name\":\"$name\",\"arguments\":$args}"
	[ "$status" -eq 0 ] || fail "web_probe exited $status: $stderr $output"
}

# fetch URL [web_probe options...]: web_fetch of URL.
fetch() {
	local url=$1
	shift
	call web_fetch "$(jq -cn --arg u "$url" '{url: $u}')" "$@"
}

# assert_content TEXT: the content is exactly TEXT, trailing newlines too.
assert_content() {
	[ "$(jq --arg t "$1" '.content == $t' <<<"$output")" = true ] ||
		fail "content $(jq .content <<<"$output"), expected $(jq -n --arg t "$1" '$t')"
}

# requests [PATH]: how many requests the server has logged (to PATH only).
requests() {
	if [ ! -s "$SRV/log" ]; then
		echo 0
		return
	fi
	jq -s --arg p "${1:-}" '[.[] | select($p == "" or .path == $p)] | length' "$SRV/log"
}

BLOCKED_TAIL="web_fetch may not reach loopback, private, link-local or other non-public addresses"

# ---- schemes and addresses ----

@test "file://, gopher:// and other schemes are refused, with and without allow_private" {
	local url
	for url in file:///etc/passwd FILE:///etc/passwd "gopher://127.0.0.1:$PORT/" "ftp://127.0.0.1:$PORT/x" \
		"dict://127.0.0.1:$PORT/" "scp://127.0.0.1/etc/passwd"; do
		fetch "$url" --allow-private
		assert_equal "$(field .ok)" false
		[[ $(field .content) == "web_fetch: unsupported URL scheme '"*"': only http and https URLs can be fetched" ]] ||
			fail "$url: $(field .content)"
		[[ $(field .content) != *root:* ]] || fail "$url leaked a file"
	done
	assert_equal "$(requests)" 0
	fetch "example.com/page"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_fetch: invalid URL 'example.com/page': Bad scheme (give an absolute http or https URL)"
	call web_fetch '{}'
	assert_equal "$(field .content)" "web_fetch: url is required (an absolute http or https URL)"
}

@test "http://127.0.0.1:PORT is blocked by default, before any request, and fetched with allow_private" {
	local before
	before=$(requests /text)
	fetch "$URL/text"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "blocked: 127.0.0.1 is a loopback address; $BLOCKED_TAIL"
	assert_equal "$(field .details.status)" error
	assert_equal "$(requests /text)" "$before"
	fetch "$URL/text" --allow-private
	assert_equal "$(field .ok)" true
	assert_content $'line one\nline two\n'
	assert_equal "$(field .details.status)" 200
	assert_equal "$(requests /text)" "$((before + 1))"
}

@test "http://[::1]:PORT is blocked by default and fetched with allow_private" {
	fetch "http://[::1]:$PORT/text"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "blocked: ::1 is a loopback address; $BLOCKED_TAIL"
	fetch "http://[::1]:$PORT/text" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.finalUrl)" "http://[::1]:$PORT/text"
}

@test "http://169.254.169.254 (cloud metadata) is blocked without a connection attempt" {
	fetch "http://169.254.169.254/latest/meta-data/" --timeout 5
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "blocked: 169.254.169.254 is a link-local address; $BLOCKED_TAIL"
	(($(field '.duration_ms | floor') < 1000)) || fail "took $(field .duration_ms) ms"
}

@test "every other spelling of this host is blocked: localhost, 0.0.0.0, ::, v4-mapped, numeric forms" {
	local url addr
	while read -r url addr; do
		fetch "$url/text"
		assert_equal "$(field .ok)" false
		[[ $(field .content) == "blocked: $addr is "*" address; $BLOCKED_TAIL" ]] || fail "$url: $(field .content)"
		# the address really is this host: allowed, it answers
		fetch "$url/text" --allow-private
		assert_equal "$(field .ok)" true
		assert_equal "$(field .details.status)" 200
	done <<-EOF
		http://localhost:$PORT 127.0.0.1
		http://0.0.0.0:$PORT 0.0.0.0
		http://[::]:$PORT ::
		http://[::ffff:127.0.0.1]:$PORT ::ffff:127.0.0.1
		http://[::ffff:7f00:1]:$PORT ::ffff:127.0.0.1
		http://2130706433:$PORT 127.0.0.1
		http://0x7f.1:$PORT 127.0.0.1
		http://127.1:$PORT 127.0.0.1
	EOF
}

@test "private, shared, link-local, multicast and IPv6 local ranges are blocked, embedded v4 too" {
	local addr kind
	while read -r addr kind; do
		fetch "http://$addr:81/" --timeout 3
		assert_equal "$(field .ok)" false
		assert_equal "$(field .content)" "blocked: ${addr//[\[\]]/} is $kind address; $BLOCKED_TAIL"
	done <<-'EOF'
		10.1.2.3 a private
		172.16.0.1 a private
		172.31.255.254 a private
		192.168.1.1 a private
		100.64.0.1 a shared (100.64.0.0/10)
		0.1.2.3 an unspecified (0.0.0.0/8)
		169.254.1.1 a link-local
		224.0.0.1 a multicast or reserved
		255.255.255.255 a multicast or reserved
		[fe80::1] a link-local
		[fc00::1] a unique local
		[fd12:3456::1] a unique local
		[fec0::1] a site-local
		[ff02::1] a multicast
		[::ffff:10.0.0.1] a private
		[::ffff:169.254.169.254] a link-local
		[64:ff9b::a00:1] a private
		[2002:c0a8:101::1] a private
	EOF
}

@test "addresses next to the blocked ranges are not blocked" {
	local addr
	# 172.32/12 and 100.128/10 are public: the guard lets the connection be
	# tried (it fails or times out here, or a network answers)
	for addr in 172.32.0.1 100.128.0.1 11.0.0.1 "[2001:db8::1]"; do
		fetch "http://$addr:81/" --timeout 1
		[[ $(field .content) != blocked:* ]] || fail "$addr: $(field .content)"
	done
}

# ---- the guard on redirects and DNS names, in a network namespace ----

# ns_run CALLS: run the probe calls of file CALLS (lines "OPTIONS<TAB>JSON",
# OPTIONS - for none, @PORT@ replaced by the server's port) in a fresh user, network and mount
# namespace set up as the header of this file says; results in
# $NS/out.1, $NS/out.2, ...
ns_run() {
	NS=$BATS_TEST_TMPDIR/ns
	mkdir -p "$NS"
	unshare -rnm true 2>/dev/null || skip "no user and network namespaces here (unshare -rnm)"
	command -v ip >/dev/null || skip "no ip(8)"
	printf '127.0.0.1 localhost\n192.0.2.1 public.test\n10.20.30.40 internal.test\n' >"$NS/hosts"
	cat >"$NS/run.sh" <<-'EOF'
		set -e
		ip link set lo up
		for a in 192.0.2.1 10.20.30.40 169.254.169.254; do ip addr add "$a/32" dev lo; done
		mount --bind "$NS/hosts" /etc/hosts
		python3 "$WEB_PY" --bind :: --port-file "$NS/port" --log "$NS/log" \
			</dev/null >/dev/null 2>"$NS/server.err" &
		pid=$!
		for i in $(seq 100); do [ -s "$NS/port" ] && break; sleep 0.05; done
		port=$(cat "$NS/port")
		n=0
		while IFS=$'\t' read -r opts call; do
			n=$((n + 1))
			[ "$opts" != - ] || opts=
			"$PROBE" $opts <<<"${call//@PORT@/$port}" >"$NS/out.$n" 2>&1 || true
		done <"$1"
		kill "$pid"
	EOF
	NS=$NS WEB_PY=$WEB_PY PROBE=$PROBE unshare -rnm bash "$NS/run.sh" "$1"
	NSPORT=$(cat "$NS/port")
	[ -s "$NS/out.1" ] || fail "nothing ran in the namespace: $(cat "$NS/server.err")"
}

# ns_out N: result N, @PORT@ in expectations meaning the namespace's port.
ns_out() {
	output=$(cat "$NS/out.$1")
}

@test "namespace: a public address and name are fetched; a DNS name resolving to 10.x is blocked" {
	printf '%s\t%s\n' \
		- '{"name":"web_fetch","arguments":{"url":"http://192.0.2.1:@PORT@/text"}}' \
		- '{"name":"web_fetch","arguments":{"url":"http://public.test:@PORT@/page"}}' \
		- '{"name":"web_fetch","arguments":{"url":"http://internal.test:@PORT@/text"}}' \
		"--allow-private" '{"name":"web_fetch","arguments":{"url":"http://internal.test:@PORT@/text"}}' \
		>calls
	ns_run calls
	ns_out 1
	assert_equal "$(field .ok)" true
	assert_content $'line one\nline two\n'
	ns_out 2
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.title)" "Café & Crème"
	ns_out 3
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "blocked: 10.20.30.40 is a private address; $BLOCKED_TAIL"
	# the server does answer there: only the guard refused it
	ns_out 4
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.status)" 200
	assert_equal "$(jq -s '[.[] | select(.path == "/text")] | length' "$NS/log")" 2
}

@test "namespace: a redirect to 127.0.0.1, ::1, 169.254.169.254 or a 10.x name is blocked" {
	local target opts addr kind n=0
	: >calls
	for target in "http://127.0.0.1:@PORT@/text" "http://[::1]:@PORT@/text" \
		"http://169.254.169.254:@PORT@/text" "http://internal.test:@PORT@/text" \
		"http://localhost:@PORT@/text" "http://public.test:@PORT@/text"; do
		for opts in - --allow-private; do
			printf '%s\t%s\n' "$opts" "$(jq -cn --arg u "http://192.0.2.1:@PORT@/redirect?to=$target" \
				'{name: "web_fetch", arguments: {url: $u}}')" >>calls
		done
	done
	ns_run calls
	while read -r addr kind target; do
		target=${target//@PORT@/$NSPORT}
		ns_out $((++n))
		assert_equal "$(field .ok)" false
		assert_equal "$(field .content)" "blocked: $addr is a $kind address; $BLOCKED_TAIL (after a redirect to $target)"
		ns_out $((++n))
		assert_equal "$(field .ok)" true
		assert_equal "$(field .details.finalUrl)" "$target"
	done <<-'EOF'
		127.0.0.1 loopback http://127.0.0.1:@PORT@/text
		::1 loopback http://[::1]:@PORT@/text
		169.254.169.254 link-local http://169.254.169.254:@PORT@/text
		10.20.30.40 private http://internal.test:@PORT@/text
		127.0.0.1 loopback http://localhost:@PORT@/text
	EOF
	# a public target is followed without allow_private
	ns_out 11
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.finalUrl)" "http://public.test:$NSPORT/text"
	# the blocked hops never reached the server: 6 redirects answered,
	# /text served only for the 5 allowed runs and the public one
	assert_equal "$(jq -s '[.[] | select(.path == "/text")] | length' "$NS/log")" 7
}

# ---- sizes, time, encodings ----

@test "an oversized body is cut at max_bytes: truncated, not an error" {
	fetch "$URL/huge?bytes=50000000" --allow-private --max-bytes 100000
	assert_equal "$(field .ok)" true
	assert_equal "$(field .truncated)" true
	assert_equal "$(field .details.bytes)" 100000
	assert_equal "$(field .details.rawLength)" 100000
	assert_equal "$(field .details.length)" 50000
	assert_equal "$(field .details.truncated)" true
	assert_equal "$(field .details.warning)" "Response body truncated after 100000 bytes."
	[[ $(field .content) == 0123456789abcde$'\n'0123456789abcde* ]] || fail "head lost"
	[[ $(field .content) == *$'\n\n[... truncated at 50000 of 100000 characters ...]\n\n[... response body truncated after 100000 bytes ...]' ]] ||
		fail "no truncation note"
	(($(field '.duration_ms | floor') < 5000)) || fail "took $(field .duration_ms) ms"
}

@test "a slow-loris server (a byte a second) ends at the time limit" {
	fetch "$URL/slow" --allow-private --timeout 2
	assert_equal "$(field .ok)" false
	[[ $(field .content) =~ ^web_fetch:\ timed\ out\ after\ 2\ s\ \([0-9]\ bytes\ of\ body\ received\)$ ]] ||
		fail "$(field .content)"
	local ms
	ms=$(field '.duration_ms | floor')
	((ms >= 1900 && ms < 4000)) || fail "took $ms ms"
}

@test "a gzip bomb is capped after decoding" {
	fetch "$URL/gzip-bomb?mib=64" --allow-private --max-bytes 1048576
	assert_equal "$(field .ok)" true
	assert_equal "$(field .truncated)" true
	# 1 MiB of decoded text, not the 64 MiB the body inflates to, nor the
	# compressed size
	assert_equal "$(field .details.bytes)" 1048576
	assert_equal "$(field .details.rawLength)" 1048576
	assert_equal "$(field '.content | test("^A{50000}\n\n\\[\\.\\.\\. truncated at 50000 of 1048576 characters")')" true
	local sent
	sent=$(jq -s '[.[] | select(.path == "/gzip-bomb?mib=64")][-1].sent' "$SRV/log")
	((sent < 200000)) || fail "the bomb was $sent bytes compressed"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o rss "$PROBE" --allow-private --max-bytes 1048576 \
			<<<"{\"name\":\"web_fetch\",\"arguments\":{\"url\":\"$URL/gzip-bomb?mib=64\"}}" >/dev/null
		(($(cat rss) < 40000)) || fail "max RSS $(cat rss) KiB"
	fi
}

@test "non-UTF-8 charsets become UTF-8: ISO-8859-1, windows-1252, a <meta> charset, invalid UTF-8" {
	fetch "$URL/page-1252" --allow-private
	assert_equal "$(field .content)" $'# Quotes\n\n“quoted” € 5 – 6 naïve'
	fetch "$URL/page-meta" --allow-private
	assert_equal "$(field .content)" $'# Meta\n\nZürich ½'
	fetch "$URL/bad-utf8" --allow-private
	assert_equal "$(field .content)" "ok �� end �( €"
	fetch "$URL/page" --allow-private
	assert_equal "$(field .details.title)" "Café & Crème"
}

# ---- web_fetch: HTML, types, arguments ----

@test "HTML becomes markdown: script, style, noscript, comments gone; entities, lists, links, pre kept" {
	fetch "$URL/page" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .content)" "# Café & Crème

# Café menu

Fish & chips <fresh> — ☺ élève ok © 2024 – &bogus; � 5 < 6

- One
- Two [other page]($URL/other?x=1&y=2)
- Nested
  - Inner

1. First
2. Second

## Links

See [the docs](https://example.org/docs) and top and js.

k | v
a | 1

\`\`\`
  indented
    code <x>
\`\`\`

Inline \`make check\`
next line"
	run -0 jq -cS '.details | del(.fetchedAt, .tookMs)' <<<"$output"
	assert_output "{\"bytes\":1071,\"contentType\":\"text/html\",\"extractMode\":\"markdown\",\"extractor\":\"html\",\"finalUrl\":\"$URL/page\",\"length\":319,\"rawLength\":319,\"status\":200,\"title\":\"Café & Crème\",\"truncated\":false,\"url\":\"$URL/page\"}"
}

@test "markdown stays bounded: relative links on a page with a long URL stop being expanded" {
	local long
	long=$(printf 'x%.0s' {1..2000})
	fetch "$URL/links/$long/?n=20000" --allow-private --max-chars 5000
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.bytes)" 320003
	# every link would be 2,040 characters: 40 MB; the output stops
	# expanding them at 4 x the page + 64 KiB and goes on with their text
	(($(field .details.rawLength) < 5 * 320003 + 65536 + 4200)) || fail "rawLength $(field .details.rawLength)"
	[[ $(field .content) == "[b]($URL/links/$long/a) [b]("* ]] || fail "$(field .content)"
}

@test "extractMode text gives plain text; fetchedAt and tookMs are there" {
	call web_fetch "{\"url\":\"$URL/page\",\"extractMode\":\"text\"}" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .content)" "Café & Crème

Café menu

Fish & chips <fresh> — ☺ élève ok © 2024 – &bogus; � 5 < 6

One
Two other page
Nested
Inner

First
Second

Links

See the docs and top and js.

k | v
a | 1

  indented
    code <x>

Inline make check
next line"
	assert_equal "$(field .details.extractMode)" text
	[[ $(field .details.fetchedAt) =~ ^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]] ||
		fail "fetchedAt $(field .details.fetchedAt)"
	assert_equal "$(field '.details.tookMs | type')" number
}

@test "maxChars cuts the text and says so; it never goes past the configured max_chars" {
	call web_fetch "{\"url\":\"$URL/page\",\"maxChars\":30}" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .truncated)" true
	assert_equal "$(field .details.length)" 30
	assert_equal "$(field .details.rawLength)" 319
	assert_equal "$(field .content)" $'# Café & Crème\n\n# Café menu\n\nFish & chips <fre\n\n[... truncated at 30 of 319 characters ...]'
	call web_fetch "{\"url\":\"$URL/page\",\"maxChars\":\"1000\"}" --allow-private --max-chars 100
	assert_equal "$(field .details.length)" 100
	assert_equal "$(field .truncated)" true
	for bad in 0 -5 '"many"' 'true'; do
		call web_fetch "{\"url\":\"$URL/page\",\"maxChars\":$bad}" --allow-private
		assert_equal "$(field .ok)" false
		assert_equal "$(field .content)" "web_fetch: maxChars must be a positive integer"
	done
	call web_fetch "{\"url\":\"$URL/page\",\"extractMode\":\"html\"}" --allow-private
	assert_equal "$(field .content)" 'web_fetch: extractMode must be "markdown" or "text"'
}

@test "text types pass through, JSON is indented, untyped text is sniffed, binary types are refused" {
	fetch "$URL/json" --allow-private
	assert_equal "$(field .content)" $'{\n  "name": "ise",\n  "tags": [\n    "a",\n    "b"\n  ]\n}'
	assert_equal "$(field .details.extractor)" json
	fetch "$URL/octet-text" --allow-private
	assert_equal "$(field .ok)" true
	assert_content $'plain words\n'
	fetch "$URL/binary" --allow-private
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_fetch: $URL/binary is binary content (image/png), not fetched: web_fetch reads HTML and text pages only"
	assert_equal "$(field .details.contentType)" image/png
}

@test "an HTTP error status is a failed call with the page's text" {
	fetch "$URL/status?code=404" --allow-private
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_fetch failed (404): # Not here"
	assert_equal "$(field .details.httpStatus)" 404
	assert_equal "$(field .details.status)" error
}

@test "redirects: followed up to 5, the final URL reported; a redirect to file:// is refused" {
	fetch "$URL/redirect?n=5" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.finalUrl)" "$URL/page"
	assert_equal "$(field .details.url)" "$URL/redirect?n=5"
	fetch "$URL/redirect?n=6" --allow-private
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_fetch: too many redirects (more than 5)"
	fetch "$URL/redirect?to=file:///etc/passwd" --allow-private
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_fetch: a redirect to file:///etc/passwd refused: only http and https URLs can be fetched"
}

@test "proxy variables are ignored: the request goes straight to the server" {
	[ "$http_proxy" = http://127.0.0.1:9 ] || fail "setup_file did not set the proxy"
	HTTP_PROXY=http://127.0.0.1:9 fetch "$URL/text" --allow-private
	assert_equal "$(field .ok)" true
	run -0 jq -s -r '[.[] | select(.path == "/text")][-1].headers["user-agent"]' "$SRV/log"
	assert_output "ise/0.1.0"
}

@test "an unknown tool name is not a web tool" {
	run --separate-stderr "$PROBE" <<<'{"name":"exec","arguments":{}}'
	assert_equal "$status" 1
	assert_equal "$(field .known)" false
	call web_fetch '"{\"url\": \"file:///x\"}"'
	assert_equal "$(field .content)" "web_fetch: unsupported URL scheme 'file': only http and https URLs can be fetched"
	call web_fetch '[1]'
	assert_equal "$(field .content)" "web_fetch: arguments must be a JSON object"
}

# ---- web_search ----

@test "web_search: numbered title, url and snippet from a SearXNG endpoint; the query is escaped" {
	call web_search '{"query":"tar & gzip?","count":3}' --search-url "$URL/search"
	assert_equal "$(field .ok)" true
	assert_equal "$(field .content)" "1. Result 1 for tar & gzip?
   https://example.org/1
   Snippet number 1 & more

2. Result 2 for tar & gzip?
   https://example.org/2
   Snippet number 2 & more

3. Result 3 for tar & gzip?
   https://example.org/3
   Snippet number 3 & more"
	assert_equal "$(field '.details.results | length')" 3
	assert_equal "$(field '.details.results[2] | [.title, .url, .snippet] | join("|")')" \
		"Result 3 for tar & gzip?|https://example.org/3|Snippet number 3 & more"
	assert_equal "$(field .details.query)" "tar & gzip?"
	run -0 jq -s -r '[.[] | select(.path | startswith("/search?"))][-1].path' "$SRV/log"
	assert_output "/search?q=tar%20%26%20gzip%3F&format=json"
}

@test "web_search: count defaults to 5 and is held to 10; an endpoint with a query string gets &" {
	call web_search '{"query":"x"}' --search-url "$URL/search"
	assert_equal "$(field '.details.results | length')" 5
	assert_equal "$(field '.content | split("\n") | map(select(test("^[0-9]+\\. "))) | length')" 5
	call web_search '{"query":"x","count":50}' --search-url "$URL/search?count=30"
	assert_equal "$(field '.details.results | length')" 10
	assert_equal "$(field .details.count)" 10
	run -0 jq -s -r '[.[] | select(.path | startswith("/search?"))][-1].path' "$SRV/log"
	assert_output "/search?count=30&q=x&format=json"
	call web_search '{"query":"x","count":0}' --search-url "$URL/search"
	assert_equal "$(field .content)" "web_search: count must be an integer from 1 to 10"
}

@test "web_search: the configured endpoint may be private; no configuration is a clear error" {
	# 127.0.0.1 without allow_private: the endpoint is configuration, trusted
	call web_search '{"query":"x","count":1}' --search-url "$URL/search"
	assert_equal "$(field .ok)" true
	call web_search '{"query":"x"}'
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_search is not configured: give ise-exec --search-url URL (a SearXNG JSON endpoint such as http://localhost:8888/search)"
	call web_search '{"query":"  "}' --search-url "$URL/search"
	assert_equal "$(field .content)" "web_search: query is required (a non-empty string)"
}

@test "web_search: no results, a non-JSON answer, an HTTP error" {
	call web_search '{"query":"nothing"}' --search-url "$URL/search-empty"
	assert_equal "$(field .ok)" true
	assert_equal "$(field .content)" 'No results for "nothing".'
	call web_search '{"query":"x"}' --search-url "$URL/search-broken"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_search failed: the search endpoint's answer is not SearXNG JSON (an object with a results array)"
	call web_search '{"query":"x"}' --search-url "$URL/status?code=403"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "web_search failed: the search endpoint answered HTTP 403 (does SearXNG's settings.yml list json under search.formats?)"
}

# ---- http_request ----

@test "http_request POST: status line, headers and body back; headers and body sent; JSON typed" {
	call http_request "{\"method\":\"POST\",\"url\":\"$URL/echo?a=1\",\"headers\":{\"X-Token\":\"abc\",\"X-Empty\":\"\",\"X-Num\":7},\"body\":\"{\\\"k\\\":1}\"}" --allow-private
	assert_equal "$(field .ok)" true
	[[ $(field .content) == "HTTP/1.0 200 OK"$'\n'* ]] || fail "$(field .content)"
	[[ $(field .content) == *$'\nX-Echo: yes\n'* ]] || fail "no header"
	local body
	body=$(field '.content | split("\n\n")[1]')
	assert_equal "$(jq -r .method <<<"$body")" POST
	assert_equal "$(jq -r .body <<<"$body")" '{"k":1}'
	assert_equal "$(jq -r .query.a <<<"$body")" 1
	assert_equal "$(jq -c '.headers | [."x-token", ."x-empty", ."x-num", ."content-type"]' <<<"$body")" \
		'["abc","","7","application/json"]'
	assert_equal "$(field .details.status)" 200
	assert_equal "$(field .details.headers[\"x-echo\"])" yes
	assert_equal "$(field .details.method)" POST
}

@test "http_request: GET, PUT, PATCH, DELETE, OPTIONS are sent as such; HEAD has no body; case is forgiven" {
	local m
	for m in GET PUT PATCH DELETE OPTIONS get delete; do
		call http_request "{\"method\":\"$m\",\"url\":\"$URL/echo\",\"body\":\"payload-$m\"}" --allow-private
		assert_equal "$(field .ok)" true
		assert_equal "$(field '.content | split("\n\n")[1] | fromjson | [.method, .body] | join(" ")')" \
			"${m^^} payload-$m"
	done
	call http_request "{\"method\":\"PUT\",\"url\":\"$URL/echo\"}" --allow-private
	assert_equal "$(field '.content | split("\n\n")[1] | fromjson | [.method, .headers["content-length"], .headers["content-type"]] | tostring')" \
		'["PUT","0",null]'
	call http_request "{\"method\":\"HEAD\",\"url\":\"$URL/echo\"}" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field '.content | test("^HTTP/1.0 200 OK\n(.+\n)*Content-Length: [0-9]+\n$")')" true
	assert_equal "$(field .details.bytes)" 0
	run -0 jq -s -r '[.[] | select(.path == "/echo")][-1].method' "$SRV/log"
	assert_output HEAD
}

@test "http_request: bad methods, header injection and bad arguments are refused before any request" {
	local before
	before=$(requests)
	call http_request "{\"method\":\"TRACE\",\"url\":\"$URL/echo\"}" --allow-private
	assert_equal "$(field .content)" "http_request: unsupported method 'TRACE': use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"
	call http_request "{\"method\":\"GET\\r\\nX: y\",\"url\":\"$URL/echo\"}" --allow-private
	assert_equal "$(field .ok)" false
	call http_request "{\"url\":\"$URL/echo\"}" --allow-private
	assert_equal "$(field .content)" "http_request: method is required (GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS)"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"headers\":{\"X-A\":\"x\\r\\nX-Injected: 1\"}}" --allow-private
	assert_equal "$(field .content)" "http_request: the value of header X-A contains CR or LF, which header values may not"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"headers\":{\"X-A\":\"x\\nX-Injected: 1\"}}" --allow-private
	assert_equal "$(field .content)" "http_request: the value of header X-A contains CR or LF, which header values may not"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"headers\":{\"X-A\\r\\nX-Injected\":\"1\"}}" --allow-private
	assert_equal "$(field .ok)" false
	[[ $(field .content) == "http_request: invalid header name "* ]] || fail "$(field .content)"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"headers\":{\"Bad Name\":\"1\"}}" --allow-private
	[[ $(field .content) == "http_request: invalid header name 'Bad Name'"* ]] || fail "$(field .content)"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"headers\":{\"X-Obj\":{\"a\":1}}}" --allow-private
	assert_equal "$(field .content)" "http_request: the value of header X-Obj must be a string"
	call http_request "{\"method\":\"POST\",\"url\":\"$URL/echo\",\"headers\":{\"Content-Length\":\"5\"}}" --allow-private
	assert_equal "$(field .content)" "http_request: Content-Length is set from the body; leave it out"
	call http_request "{\"method\":\"POST\",\"url\":\"$URL/echo\",\"body\":{\"k\":1}}" --allow-private
	assert_equal "$(field .content)" "http_request: body must be a string (serialise JSON documents first)"
	call http_request "{\"method\":\"HEAD\",\"url\":\"$URL/echo\",\"body\":\"x\"}" --allow-private
	assert_equal "$(field .content)" "http_request: a HEAD request has no body"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\",\"timeout\":0}" --allow-private
	assert_equal "$(field .content)" "http_request: timeout must be a positive number of seconds"
	call http_request '{"method":"GET","url":"file:///etc/passwd"}' --allow-private
	assert_equal "$(field .content)" "http_request: unsupported URL scheme 'file': only http and https URLs can be fetched"
	assert_equal "$(requests)" "$before"
}

@test "http_request: the guard applies, redirects are shown not followed, an error status is a response" {
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo\"}"
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "blocked: 127.0.0.1 is a loopback address; http_request may not reach loopback, private, link-local or other non-public addresses"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/redirect?to=/page\"}" --allow-private
	assert_equal "$(field .ok)" true
	[[ $(field .content) == "HTTP/1.0 302 Found"$'\n'* ]] || fail "$(field .content)"
	assert_equal "$(field .details.headers.location)" /page
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/status?code=500\"}" --allow-private
	assert_equal "$(field .ok)" true
	assert_equal "$(field .details.status)" 500
	[[ $(field .content) == "HTTP/1.0 500 Internal Server Error"$'\n'*"<h1>Not here</h1>"* ]] || fail "$(field .content)"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/binary\"}" --allow-private
	[[ $(field .content) == *$'\n\n[binary body: 67 bytes of image/png, not shown]' ]] || fail "$(field .content)"
}

@test "http_request: timeout lowers the limit and never raises it past the configuration" {
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo?sleep=5\",\"timeout\":1}" --allow-private --timeout 10
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "http_request: timed out after 1 s (0 bytes of body received)"
	(($(field '.duration_ms | floor') < 2500)) || fail "took $(field .duration_ms) ms"
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/echo?sleep=5\",\"timeout\":100}" --allow-private --timeout 2
	assert_equal "$(field .ok)" false
	assert_equal "$(field .content)" "http_request: timed out after 2 s (0 bytes of body received)"
	(($(field '.duration_ms | floor') < 3500)) || fail "took $(field .duration_ms) ms"
}

@test "http_request: a big body is capped at max_bytes and max_chars" {
	call http_request "{\"method\":\"GET\",\"url\":\"$URL/huge?bytes=1000000\"}" --allow-private --max-bytes 5000 --max-chars 1000
	assert_equal "$(field .ok)" true
	assert_equal "$(field .truncated)" true
	assert_equal "$(field .details.bytes)" 5000
	[[ $(field .content) == *$'\n\n[... truncated at 1000 of 5000 characters ...]\n\n[... response body truncated after 5000 bytes ...]' ]] ||
		fail "$(field .content)"
}
