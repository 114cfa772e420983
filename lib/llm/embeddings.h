/*
 * embeddings: vectors from an OpenAI-compatible /embeddings endpoint
 * (vLLM, llama-server --embeddings, Ollama, TEI, hosted APIs), through the
 * client of llm.h: the same retries, waiting, cache and error rules.
 *
 * A reply's vectors are JSON numbers or, where the server sends base64
 * (encoding_format "base64"), little-endian float32s; they are put in the
 * order of their index fields, or in the order given when the reply has
 * none.  A request the server refuses as too large (413, or 422 from TEI)
 * is REJECTED, so the caller can split the batch.
 */
#ifndef ISE_EMBEDDINGS_H
#define ISE_EMBEDDINGS_H

#include <stddef.h>

#include "llm/llm.h"

/* Embeddings of n texts, row-major into a malloc'd *vectors (n x *dim),
 * the caller's; NULL unless OK. */
enum ise_llm_status ise_llm_embed(struct ise_llm *llm, const char *const *texts, size_t n,
				  float **vectors, size_t *dim, char *err, size_t errlen);

#endif
