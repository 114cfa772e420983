/*
 * errclass: what an error reply means for the run.  Servers say the same
 * things in their own words; these rules know the words of vLLM,
 * llama-server, Ollama, SGLang, TGI, TEI and OpenAI for three things a
 * client must tell apart from a bad record: a mistake every later request
 * will repeat (a server flag missing, an option the model refuses, a model
 * that is not served), a refusal of response_format (ask more plainly, on
 * that endpoint only), and a prompt longer than the context window; and
 * a refusal for load, which asks the client to send less at once, from
 * one that does not: an exhausted quota, a model still loading.
 */
#ifndef ISE_ERRCLASS_INT_H
#define ISE_ERRCLASS_INT_H

#include <stddef.h>

enum ise_llm_errkind {
	ISE_LLM_ERR_RECORD,  /* this request's trouble only */
	ISE_LLM_ERR_FORMAT,  /* the server refuses the response_format asked for */
	ISE_LLM_ERR_CONFIG,  /* every request will fail the same way: stop the run */
	ISE_LLM_ERR_MODEL,   /* the model is not served: a CONFIG error */
	ISE_LLM_ERR_CONTEXT, /* the prompt does not fit the model's context window */
	ISE_LLM_ERR_BUSY,    /* refused for load (429, 503), not for this request */
};

struct ise_llm_errclass {
	enum ise_llm_errkind kind;
	const char *fix;      /* CONFIG and MODEL: what to change; static text */
	long n_ctx, n_prompt; /* CONTEXT: the window and the prompt, when said */
};

/* One line from an error body of any shape: its message, with its type and
 * code in parentheses when it has them; an HTML page's title; else the
 * start of the body. */
void ise_llm_error_message(const char *body, char *out, size_t size);

/* The class of an error reply: status (200 for a 200 whose body is an error
 * object), path ("/chat/completions" or "/embeddings"), body its text. */
void ise_llm_classify(long status, const char *path, const char *body, struct ise_llm_errclass *c);

/* The status a 200 reply carrying {"error": ...} stands for (its numeric
 * code when it is one of 400-599, else 500); 0 when body is no such reply. */
long ise_llm_error_in_200(const char *body);

#endif
