#include "export/pyjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsontext.h"

/* repr() of a finite double: the fewest significant digits that read back
 * as d, written in fixed notation when the decimal exponent is from -4 to
 * 15, else as d.ddde+XX (Python's float_repr_style 'short'). */
static void put_repr(struct ise_strbuf *b, double d)
{
	char buf[40], digits[24];
	int exp10 = 0, nd = 0;

	if (d == 0) {
		ise_sb_puts(b, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	if (d < 0) {
		ise_sb_add(b, "-", 1);
		d = -d;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
		if (strtod(buf, NULL) == d || prec == 17)
			break;
	}
	/* buf is D[.DDD]e[+-]XX */
	for (const char *p = buf; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp10 = (int)strtol(strchr(buf, 'e') + 1, NULL, 10);
	int point = exp10 + 1; /* digits before the decimal point */
	if (point > -4 && point <= 16) {
		if (point <= 0) {
			ise_sb_add(b, "0.", 2);
			for (int i = 0; i < -point; i++)
				ise_sb_add(b, "0", 1);
			ise_sb_add(b, digits, (size_t)nd);
		} else if (point >= nd) {
			ise_sb_add(b, digits, (size_t)nd);
			for (int i = nd; i < point; i++)
				ise_sb_add(b, "0", 1);
			ise_sb_add(b, ".0", 2);
		} else {
			ise_sb_add(b, digits, (size_t)point);
			ise_sb_add(b, ".", 1);
			ise_sb_add(b, digits + point, (size_t)(nd - point));
		}
		return;
	}
	ise_sb_add(b, digits, 1);
	if (nd > 1) {
		ise_sb_add(b, ".", 1);
		ise_sb_add(b, digits + 1, (size_t)(nd - 1));
	}
	ise_sb_printf(b, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
}

void ise_pyjson_put_number(struct ise_strbuf *b, const char *text)
{
	if (!strpbrk(text, ".eE")) { /* json.loads makes an int: all its digits */
		ise_sb_puts(b, strcmp(text, "-0") ? text : "0");
		return;
	}
	double d = strtod(text, NULL);
	if (isinf(d))
		ise_sb_puts(b, d < 0 ? "-Infinity" : "Infinity");
	else
		put_repr(b, d);
}

void ise_pyjson_put(struct ise_strbuf *b, const cJSON *item)
{
	char buf[64];
	const cJSON *c;

	switch (item->type & 0xFF) {
	case cJSON_Number:
		ise_pyjson_put_number(b, ise_json_number_text(item, buf, sizeof buf));
		break;
	case cJSON_Array:
		ise_sb_add(b, "[", 1);
		for (c = item->child; c; c = c->next) {
			ise_pyjson_put(b, c);
			if (c->next)
				ise_sb_add(b, ", ", 2);
		}
		ise_sb_add(b, "]", 1);
		break;
	case cJSON_Object:
		ise_sb_add(b, "{", 1);
		for (c = item->child; c; c = c->next) {
			ise_json_put_string(b, c->string, strlen(c->string));
			ise_sb_add(b, ": ", 2);
			ise_pyjson_put(b, c);
			if (c->next)
				ise_sb_add(b, ", ", 2);
		}
		ise_sb_add(b, "}", 1);
		break;
	default: /* null, booleans and strings are written alike */
		ise_json_put(b, item);
	}
}
