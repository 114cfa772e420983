/*
 * pyjson: JSON as Python's json.dumps(ensure_ascii=False) writes it, which
 * is what chat templates' tojson filter gives (Hugging Face transformers,
 * vLLM, SGLang): ", " between items, ": " after keys, keys in their order,
 * non-ASCII characters as they are, and numbers as Python prints what
 * json.loads made of them: an integer in full, a fraction or exponent as
 * the shortest repr() of its double ("1.0", "1e-05", "1.5e+16"), out of
 * range as Infinity.  The text goes to a caller's buffer.
 */
#ifndef ISE_EXPORT_PYJSON_H
#define ISE_EXPORT_PYJSON_H

#include <cJSON.h>

#include "core/strbuf.h"

void ise_pyjson_put(struct ise_strbuf *b, const cJSON *item);
/* The number text (JSON syntax) as Python prints the value json.loads
 * makes of it. */
void ise_pyjson_put_number(struct ise_strbuf *b, const char *text);

#endif
