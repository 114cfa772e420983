/*
 * sandbox_opts: the command-line options of the sandbox (exec/sandbox.h)
 * and of the tools' limits (exec/tools.h).
 */
#ifndef ISE_SANDBOX_OPTS_H
#define ISE_SANDBOX_OPTS_H

#include <getopt.h>

/*
 * The command-line options ise-exec and ise-sim share: put
 * ISE_SANDBOX_OPTIONS in the program's struct option table,
 * ISE_SANDBOX_HELP in its help, and pass every option to
 * ise_sandbox_option first (1: it was one of these).
 */
enum {
	ISE_SBOPT_ISOLATION = 0x400,
	ISE_SBOPT_TEMPLATE,
	ISE_SBOPT_RUN_DIR,
	ISE_SBOPT_NET,
	ISE_SBOPT_TIMEOUT,
	ISE_SBOPT_TIMEOUT_MAX,
	ISE_SBOPT_MEMORY,
	ISE_SBOPT_FSIZE,
	ISE_SBOPT_DISK,
	ISE_SBOPT_TMP,
	ISE_SBOPT_NPROC,
	ISE_SBOPT_MAX_OUTPUT,
	ISE_SBOPT_UID,
	ISE_SBOPT_ALLOW_PRIVATE,
	ISE_SBOPT_SEARCH_URL,
	ISE_SBOPT_WEB_TIMEOUT,
};
#define ISE_SANDBOX_OPTIONS                                                                        \
	{"isolation", required_argument, NULL, ISE_SBOPT_ISOLATION},                               \
	    {"template", required_argument, NULL, ISE_SBOPT_TEMPLATE},                             \
	    {"run-dir", required_argument, NULL, ISE_SBOPT_RUN_DIR},                               \
	    {"net", no_argument, NULL, ISE_SBOPT_NET},                                             \
	    {"exec-timeout", required_argument, NULL, ISE_SBOPT_TIMEOUT},                          \
	    {"exec-timeout-max", required_argument, NULL, ISE_SBOPT_TIMEOUT_MAX},                  \
	    {"memory", required_argument, NULL, ISE_SBOPT_MEMORY},                                 \
	    {"fsize", required_argument, NULL, ISE_SBOPT_FSIZE},                                   \
	    {"disk", required_argument, NULL, ISE_SBOPT_DISK},                                     \
	    {"tmp-size", required_argument, NULL, ISE_SBOPT_TMP},                                  \
	    {"nproc", required_argument, NULL, ISE_SBOPT_NPROC},                                   \
	    {"max-output", required_argument, NULL, ISE_SBOPT_MAX_OUTPUT},                         \
	    {"uid", required_argument, NULL, ISE_SBOPT_UID},                                       \
	    {"allow-private", no_argument, NULL, ISE_SBOPT_ALLOW_PRIVATE},                         \
	    {"search-url", required_argument, NULL, ISE_SBOPT_SEARCH_URL},                         \
	{                                                                                          \
		"web-timeout", required_argument, NULL, ISE_SBOPT_WEB_TIMEOUT                      \
	}
#define ISE_SANDBOX_HELP                                                                           \
	"      --isolation LEVEL  ns (default as root), bwrap, rlimit, or none (tests only)\n"     \
	"      --template DIR     workspaces start as a copy-on-write view of DIR\n"               \
	"      --run-dir DIR      where workspaces live (/run/ise; $TMPDIR/ise-UID)\n"             \
	"      --net              commands keep the host network (default: none)\n"                \
	"      --exec-timeout SECS wall time of a command when it gives none (120)\n"              \
	"      --exec-timeout-max SECS  the most a command may ask for (1800)\n"                   \
	"      --memory SIZE      data memory of a command (4G)\n"                                 \
	"      --fsize SIZE       largest file a command may write (1G)\n"                         \
	"      --disk SIZE        space for a workspace's changes (1G)\n"                          \
	"      --tmp-size SIZE    size of /tmp in the sandbox (256M)\n"                            \
	"      --nproc N          processes a command may run (512)\n"                             \
	"      --max-output SIZE  output bytes kept, head and tail (30000)\n"                      \
	"      --uid UID[:GID]    the sandbox user when root (65534)\n"                            \
	"      --allow-private    web tools may reach loopback and private addresses\n"            \
	"      --search-url URL   web_search endpoint (a SearXNG JSON API)\n"                      \
	"      --web-timeout SECS time limit of a web request (30)\n"

struct ise_sandbox_config;
struct ise_tools_config;
int ise_sandbox_option(int opt, const char *arg, struct ise_sandbox_config *c,
		       struct ise_tools_config *t);

#endif
