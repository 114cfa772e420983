/*
 * fuzz_exec: an ise-exec request, from the record to the tool's result.
 *
 * The input is one request record {workspace, op?, name, arguments}.  It
 * meets the checks ise-exec's admit() makes (src/ise-exec.c, mirrored
 * here), then the dispatch of ise_tool_call: the file tools run for real
 * through ise_fs_tool on a scratch workspace made afresh for every input,
 * the web tools through ise_web_tool in a network namespace of their own,
 * where nothing can be reached (they are left out when one cannot be made);
 * exec and process need the sandbox and stop at the dispatch.  The
 * workspace holds symlinks that point out of it; after every call the
 * directory around it must hold what it held before, byte for byte.
 */
#define _GNU_SOURCE /* O_PATH, unshare */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "exec/fs_tool.h"
#include "exec/tools.h"
#include "exec/web.h"

#define OUTSIDE_TEXT "outside the workspace: never to be changed\n"

static char base[64] = "/tmp/ise-fuzz-exec-XXXXXX", ws[96], outside[96];
static struct ise_tools_config cfg;
static int web_ok;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	if (remove(path) && errno != ENOENT) {
		/* a directory the tools made unreadable: open it up and try again */
		chmod(path, 0700);
		return 0;
	}
	return 0;
}

static void remove_tree(const char *path)
{
	for (int i = 0; i < 3 && !access(path, F_OK); i++)
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void at_exit(void)
{
	remove_tree(base);
}

static void put(const char *name, const char *text)
{
	char path[160];
	snprintf(path, sizeof path, "%s/%s", ws, name);
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		fuzz_fail("fuzz_exec: cannot make %s", path);
}

static void link_to(const char *target, const char *name)
{
	char path[160];
	snprintf(path, sizeof path, "%s/%s", ws, name);
	if (symlink(target, path))
		fuzz_fail("fuzz_exec: cannot make the link %s", path);
}

/* The workspace every input starts from. */
static int fresh_workspace(void)
{
	char path[160];

	remove_tree(ws);
	if (!access(ws, F_OK))
		fuzz_fail("fuzz_exec: cannot empty the workspace %s", ws);
	if (mkdir(ws, 0755))
		fuzz_fail("fuzz_exec: cannot make %s", ws);
	snprintf(path, sizeof path, "%s/dir", ws);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/dir/sub", ws);
	mkdir(path, 0755);
	put("a.txt", "alpha\nbeta\ngamma\nalpha beta\n");
	put("dir/b.md", "# notes\n\n- one\n- two\r\n");
	put("dir/sub/c.txt", "deep\n");
	put(".hidden", "secret-ish\n");
	link_to("../outside.txt", "up");
	link_to(outside, "abs");
	link_to("loop", "loop");
	link_to("dir", "dirlink");
	link_to("/", "rootlink");
	int fd = open(ws, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fuzz_fail("fuzz_exec: cannot open %s", ws);
	return fd;
}

/* The directory around the workspace holds ws and outside.txt, unchanged. */
static void check_outside(const char *what)
{
	DIR *d = opendir(base);
	struct dirent *e;
	char text[256];

	if (!d)
		fuzz_fail("fuzz_exec: %s: cannot read %s", what, base);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "ws") &&
		    strcmp(e->d_name, "outside.txt"))
			fuzz_fail("fuzz_exec: %s made '%s' outside the workspace", what, e->d_name);
	closedir(d);
	FILE *f = fopen(outside, "r");
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
	if (f)
		fclose(f);
	text[n] = '\0';
	if (strcmp(text, OUTSIDE_TEXT))
		fuzz_fail("fuzz_exec: %s changed %s", what, outside);
}

/* No way out: a network namespace with nothing in it. */
static int isolate_network(void)
{
	if (!unshare(CLONE_NEWNET))
		return 1;
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		return 0;
	char map[64];
	int ok = 1;
	struct {
		const char *file, *text;
	} maps[] = {{"/proc/self/setgroups", "deny"},
		    {"/proc/self/uid_map", NULL},
		    {"/proc/self/gid_map", NULL}};
	for (size_t i = 0; i < 3; i++) {
		if (i)
			snprintf(map, sizeof map, "%u %u 1", i == 1 ? (unsigned)uid : (unsigned)gid,
				 i == 1 ? (unsigned)uid : (unsigned)gid);
		FILE *f = fopen(maps[i].file, "w");
		ok &= f && fputs(maps[i].text ? maps[i].text : map, f) >= 0;
		if (f)
			ok &= !fclose(f);
	}
	return ok;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_setup("fuzz_exec");
	web_ok = isolate_network();
	if (!web_ok)
		fprintf(stderr,
			"fuzz_exec: no network namespace here: the web tools are left out\n");
	if (!mkdtemp(base))
		fuzz_fail("fuzz_exec: mkdtemp: %s", strerror(errno));
	snprintf(ws, sizeof ws, "%s/ws", base);
	snprintf(outside, sizeof outside, "%s/outside.txt", base);
	FILE *f = fopen(outside, "w");
	if (!f || fputs(OUTSIDE_TEXT, f) < 0 || fclose(f))
		fuzz_fail("fuzz_exec: cannot make %s", outside);
	atexit(at_exit);
	ise_tools_config_default(&cfg);
	cfg.max_read = 4096;
	cfg.max_output = 4096;
	cfg.web.timeout_s = 0.2;
	cfg.web.max_bytes = 4096;
	cfg.web.search_url = "http://127.0.0.1:9/search";
	return 0;
}

/* src/ise-exec.c admit(): NULL when ise-exec would run the record. */
static const char *admit(const cJSON *in)
{
	const cJSON *ws_name = cJSON_GetObjectItemCaseSensitive(in, "workspace");
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(in, "op");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");

	if (!cJSON_IsString(ws_name) || !*ws_name->valuestring)
		return "no workspace";
	if (cJSON_IsString(op))
		return "an op: the sandbox's business";
	if (!cJSON_IsString(name) || !*name->valuestring)
		return "no name";
	return NULL;
}

static void check_result(const char *name, const struct ise_tool_result *r)
{
	size_t n, m;

	if (!r->content)
		fuzz_fail("fuzz_exec: %s gave no content", name);
	n = strlen(r->content);
	char *clean = ise_utf8_clean(r->content, n, &m);
	if (m != n || memcmp(clean, r->content, n))
		fuzz_fail("fuzz_exec: the content of %s is not valid UTF-8", name);
	free(clean);
	if (r->ok != 0 && r->ok != 1)
		fuzz_fail("fuzz_exec: %s: ok is %d", name, r->ok);
	if (r->details) {
		char *d = cJSON_PrintUnformatted(r->details);
		if (!cJSON_IsObject(r->details) || !d)
			fuzz_fail("fuzz_exec: the details of %s are not an object", name);
		n = strlen(d);
		clean = ise_utf8_clean(d, n, &m);
		if (m != n || memcmp(clean, d, n))
			fuzz_fail("fuzz_exec: the details of %s are not valid UTF-8", name);
		free(clean);
		cJSON_free(d);
	}
}

/* ise_tool_call without a sandbox: the file tools, then the web tools. */
static void call(int rootfd, const char *name, const cJSON *arguments)
{
	struct ise_tool_result r;

	memset(&r, 0, sizeof r);
	if (ise_fs_tool(rootfd, (uid_t)-1, (gid_t)-1, &cfg, name, arguments, &r)) {
		check_result(name, &r);
		ise_tool_result_free(&r);
		return;
	}
	if (!web_ok || !strcmp(name, "exec") || !strcmp(name, "process"))
		return;
	cJSON *parsed = NULL;
	const cJSON *args = arguments;
	if (cJSON_IsString(arguments) && !(args = parsed = cJSON_Parse(arguments->valuestring)))
		return;
	if (cJSON_IsObject(args) || !args || cJSON_IsNull(args)) {
		r.exit_code = -1;
		if (ise_web_tool(&cfg.web, name, args, &r)) {
			if (r.ok)
				fuzz_fail("fuzz_exec: %s succeeded with no network", name);
			check_result(name, &r);
			ise_tool_result_free(&r);
		}
	}
	cJSON_Delete(parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *in = cJSON_ParseWithLength((const char *)data, size);

	fuzz_setup("fuzz_exec");
	if (cJSON_IsObject(in) && !admit(in)) {
		int rootfd = fresh_workspace();
		const char *name = cJSON_GetObjectItemCaseSensitive(in, "name")->valuestring;
		fuzz_quiet_begin();
		call(rootfd, name, cJSON_GetObjectItemCaseSensitive(in, "arguments"));
		fuzz_quiet_end(0, NULL);
		check_outside(name);
		close(rootfd);
	}
	cJSON_Delete(in);
	return 0;
}
