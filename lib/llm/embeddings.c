/*
 * embeddings: the /embeddings request of the client (see embeddings.h).
 */
#include "llm/embeddings.h"

#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "llm/llm_int.h"

/* The value of base64 character c, or -1. */
static int base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' || c == '-' ? 62 : c == '/' || c == '_' ? 63 : -1;
}

/* An embedding as a malloc'd row of *d floats: a JSON array of numbers, or
 * (encoding_format base64) the base64 of little-endian float32s.  NULL
 * when it is neither or is empty. */
static float *vector_of(const cJSON *e, size_t *d)
{
	float *row = NULL;
	const cJSON *x;
	size_t k = 0;

	*d = 0;
	if (cJSON_IsArray(e) && cJSON_GetArraySize(e) > 0) {
		row = ise_xmalloc((size_t)cJSON_GetArraySize(e) * sizeof *row);
		cJSON_ArrayForEach(x, e) {
			if (!cJSON_IsNumber(x)) {
				free(row);
				return NULL;
			}
			row[k++] = (float)x->valuedouble;
		}
		*d = k;
		return row;
	}
	if (!cJSON_IsString(e))
		return NULL;
	const unsigned char *s = (const unsigned char *)e->valuestring;
	size_t len = strlen(e->valuestring), nbytes = 0;
	unsigned char *bytes = ise_xmalloc(len / 4 * 3 + 3);
	unsigned acc = 0, bits = 0;
	for (; *s && *s != '='; s++) {
		int v = base64_value(*s);
		if (v < 0) {
			free(bytes);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v, bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[nbytes++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (!nbytes || nbytes % 4) {
		free(bytes);
		return NULL;
	}
	row = ise_xmalloc(nbytes / 4 * sizeof *row);
	for (size_t i = 0; i < nbytes / 4; i++) {
		uint32_t u = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
			     (uint32_t)bytes[4 * i + 2] << 16 | (uint32_t)bytes[4 * i + 3] << 24;
		memcpy(&row[i], &u, sizeof u);
	}
	free(bytes);
	*d = nbytes / 4;
	return row;
}

enum ise_llm_status ise_llm_embed(struct ise_llm *llm, const char *const *texts, size_t n,
				  float **vectors, size_t *dim, char *err, size_t errlen)
{
	cJSON *body = cJSON_CreateObject(), *resp, *item;
	struct ise_llm_reply meta = {0};
	const char *model = llm->cfg.embed_model ? llm->cfg.embed_model : llm->cfg.model;

	*vectors = NULL;
	*dim = 0;
	if (model)
		cJSON_AddStringToObject(body, "model", model);
	cJSON *input = cJSON_AddArrayToObject(body, "input");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(input, cJSON_CreateString(texts[i]));
	cJSON_AddStringToObject(body, "encoding_format", "float");
	enum ise_llm_status status =
	    ise_llm_post(llm, "/embeddings", body, &resp, &meta, err, errlen);
	cJSON_Delete(body);
	if (status != ISE_LLM_OK)
		return status;
	ise_llm_note_model(llm, resp, &meta);
	free(meta.model);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
	if (cJSON_GetArraySize(data) != (int)n) {
		ise_llm_fail(llm, err, errlen, "embeddings reply has %d vectors for %zu texts",
			     cJSON_GetArraySize(data), n);
		cJSON_Delete(resp);
		return ISE_LLM_REJECTED;
	}
	/* without index fields (some servers and proxies) the order is the input's */
	int indexed = 1;
	cJSON_ArrayForEach(item, data)
		indexed &= cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(item, "index"));
	unsigned char *seen = ise_xcalloc(n, 1);
	size_t pos = 0;
	const char *bad = NULL;
	cJSON_ArrayForEach(item, data) {
		const cJSON *index = cJSON_GetObjectItemCaseSensitive(item, "index");
		double at = indexed ? index->valuedouble : (double)pos;
		size_t i = at >= 0 && at < (double)n ? (size_t)at : n, d;
		float *row = vector_of(cJSON_GetObjectItemCaseSensitive(item, "embedding"), &d);
		pos++;
		if (!row)
			bad = "an embedding is neither numbers nor base64 float32";
		else if (i >= n || seen[i])
			bad = "bad or repeated index";
		else if (*dim && d != *dim)
			bad = "vectors of different dimensions";
		if (bad) {
			free(row);
			break;
		}
		if (!*dim)
			*vectors = ise_xcalloc(n * d, sizeof **vectors), *dim = d;
		memcpy(*vectors + i * d, row, d * sizeof *row);
		seen[i] = 1;
		free(row);
	}
	free(seen);
	cJSON_Delete(resp);
	if (bad) {
		ise_llm_fail(llm, err, errlen, "embeddings reply: %s", bad);
		free(*vectors);
		*vectors = NULL;
		*dim = 0;
		return ISE_LLM_REJECTED;
	}
	return ISE_LLM_OK;
}
