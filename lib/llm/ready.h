/*
 * ready: a server that is not ready yet, and what a server says of itself.
 *
 * A server that refuses connections (vLLM while it loads) or answers 503
 * (llama-server's "Loading model", Ollama's full queue) is waited for, up
 * to the client's wait seconds (--wait), with a line on standard error
 * every 10 seconds.  Readiness is read from GET /health at the server's
 * root (llama-server answers 503 there while it loads, though its
 * /v1/models already answers), else from GET /models.
 *
 * The context window is what the server reports: vLLM's max_model_len in
 * /models, else llama-server's n_ctx in /props (the share of one slot when
 * it runs --parallel slots).  Ollama and hosted APIs report none.
 *
 * Any thread may call these; the answers are not cached.
 */
#ifndef ISE_READY_H
#define ISE_READY_H

#include <stddef.h>

struct ise_llm; /* llm/llm.h */

/* Wait until the server is ready: 0 when it is, -1 when it is not within
 * the wait (err says what it answered last). */
int ise_llm_wait_ready(struct ise_llm *llm, char *err, size_t errlen);

/* The context window, in tokens, the server reports for the client's
 * model; 0 when it reports none.  *source says where it came from:
 * "max_model_len" or "n_ctx". */
long ise_llm_context_window(struct ise_llm *llm, const char **source);

/* The ids of the models GET /models lists, joined by ", ", into buf ("" when
 * it lists none). */
void ise_llm_served_models(struct ise_llm *llm, char *buf, size_t size);

#endif
