#include "gen/slots.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "core/jsondoc.h"
#include "core/template.h"

/* First names from many regions, spelt without diacritics, apostrophes or
 * spaces: the catalog's plans put them inside single-quoted shell words. */
const char *const ise_slot_names[] = {
    "Amara",  "Chidi",   "Kwame",  "Zanele",    "Thabo",   "Lerato", "Kofi",   "Ayodele", "Wanjiru",
    "Tariq",  "Layla",   "Omar",   "Yusuf",     "Aisha",   "Fatima", "Noor",   "Reza",    "Darius",
    "Mehmet", "Elif",    "Priya",  "Arjun",     "Rohan",   "Ananya", "Kiran",  "Bilal",   "Sana",
    "Mei",    "Wei",     "Jun",    "Hiroshi",   "Yuki",    "Haruto", "Minjun", "Jiwoo",   "Linh",
    "Thanh",  "Siti",    "Putri",  "Rizal",     "Malia",   "Tane",   "Aroha",  "Maria",   "Lucia",
    "Mateo",  "Diego",   "Camila", "Valentina", "Joao",    "Thiago", "Sofia",  "Elena",   "Ivan",
    "Olga",   "Dmitri",  "Anna",   "Lars",      "Ingrid",  "Sven",   "Freya",  "Mikko",   "Aino",
    "Pieter", "Sanne",   "Lukas",  "Hannah",    "Klaus",   "Chloe",  "Louis",  "Camille", "Giulia",
    "Marco",  "Sean",    "Aoife",  "Emma",      "Liam",    "Noah",   "Olivia", "Ethan",   "Grace",
    "Tomasz", "Zofia",   "Petra",  "Jakub",     "Nikos",   "Eleni",  "Tenzin", "Nima",    "Ayasha",
    "Kai",    "Leilani", "Dawit",  "Selam",     "Youssef", "Imane",
};
const unsigned ise_slot_nnames = sizeof ise_slot_names / sizeof *ise_slot_names;

/* A uniform integer in [0, n); n may exceed the generator's range. */
static uint64_t uniform_below(gsl_rng *r, uint64_t n)
{
	if (n <= 1)
		return 0;
	if (n - 1 <= gsl_rng_max(r) - gsl_rng_min(r))
		return gsl_rng_uniform_int(r, (unsigned long)n);
	uint64_t v = (uint64_t)floor(gsl_rng_uniform(r) * (double)n);
	return v < n ? v : n - 1;
}

/* Fixed-point text of k / 10^decimals, never with an exponent or "-0". */
static void format_fixed(char *buf, size_t size, long long k, int decimals)
{
	unsigned long long a = k < 0 ? (unsigned long long)-(k + 1) + 1 : (unsigned long long)k;
	unsigned long long scale = 1;

	for (int i = 0; i < decimals; i++)
		scale *= 10;
	if (decimals == 0)
		snprintf(buf, size, "%s%llu", k < 0 ? "-" : "", a);
	else
		snprintf(buf, size, "%s%llu.%0*llu", k < 0 ? "-" : "", a / scale, decimals,
			 a % scale);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number, or -1. */
static long digits(const char *s, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(long y, long m)
{
	static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : len[m - 1];
}

/* "YYYY-MM-DD" as days since the epoch; 0 on success. */
static int parse_date(const char *s, long *days)
{
	long y, m, d;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

/* "HH:MM" as minutes after midnight; 0 on success. */
static int parse_time(const char *s, long *minutes)
{
	long h, m;

	if (!s || strlen(s) != 5 || s[2] != ':')
		return -1;
	h = digits(s, 2), m = digits(s + 3, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	*minutes = h * 60 + m;
	return 0;
}

static int number_range(const cJSON *slot, double *lo, double *hi)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(slot, "min");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(slot, "max");

	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !(a->valuedouble <= b->valuedouble) ||
	    fabs(a->valuedouble) > 1e15 || fabs(b->valuedouble) > 1e15)
		return -1;
	*lo = a->valuedouble, *hi = b->valuedouble;
	return 0;
}

/* One value for slot, written to buf; 0 on success, -1 for a malformed slot. */
static int draw(const cJSON *slot, gsl_rng *r, char *buf, size_t size)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(slot, "type"));
	double lo, hi;

	if (!type)
		return -1;
	if (!strcmp(type, "int")) {
		if (number_range(slot, &lo, &hi))
			return -1;
		long long a = (long long)ceil(lo), b = (long long)floor(hi);
		if (a > b)
			return -1;
		format_fixed(buf, size, a + (long long)uniform_below(r, (uint64_t)(b - a) + 1), 0);
		return 0;
	}
	if (!strcmp(type, "number")) {
		const cJSON *dec = cJSON_GetObjectItemCaseSensitive(slot, "decimals");
		int decimals = cJSON_IsNumber(dec) ? (int)dec->valuedouble : 2;
		if (number_range(slot, &lo, &hi))
			return -1;
		if (decimals < 0)
			decimals = 0;
		if (decimals > 6)
			decimals = 6;
		double scale = pow(10, decimals);
		/* a uniform point of the grid of step 10^-decimals inside [min, max] */
		long long a = (long long)ceil(lo * scale - 1e-6);
		long long b = (long long)floor(hi * scale + 1e-6);
		if (a > b)
			return -1;
		format_fixed(buf, size, a + (long long)uniform_below(r, (uint64_t)(b - a) + 1),
			     decimals);
		return 0;
	}
	if (!strcmp(type, "enum")) {
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(slot, "values");
		int n = cJSON_GetArraySize(values);
		if (!cJSON_IsArray(values) || n < 1)
			return -1;
		const char *v = cJSON_GetStringValue(
		    cJSON_GetArrayItem(values, (int)uniform_below(r, (uint64_t)n)));
		if (!v)
			return -1;
		snprintf(buf, size, "%s", v);
		return 0;
	}
	if (!strcmp(type, "name")) {
		snprintf(buf, size, "%s", ise_slot_names[uniform_below(r, ise_slot_nnames)]);
		return 0;
	}
	if (!strcmp(type, "date")) {
		long a, b, y, m, d;
		if (parse_date(ise_json_string(slot, "from"), &a) ||
		    parse_date(ise_json_string(slot, "to"), &b) || a > b)
			return -1;
		civil_from_days(a + (long)uniform_below(r, (uint64_t)(b - a) + 1), &y, &m, &d);
		snprintf(buf, size, "%04ld-%02ld-%02ld", y, m, d);
		return 0;
	}
	if (!strcmp(type, "time")) {
		long a, b;
		if (parse_time(ise_json_string(slot, "from"), &a) ||
		    parse_time(ise_json_string(slot, "to"), &b) || a > b)
			return -1;
		long t = a + (long)uniform_below(r, (uint64_t)(b - a) + 1);
		snprintf(buf, size, "%02ld:%02ld", t / 60, t % 60);
		return 0;
	}
	return -1;
}

cJSON *ise_slots_fill(const cJSON *task, gsl_rng *r)
{
	const cJSON *slots = cJSON_GetObjectItemCaseSensitive(task, "slots"), *slot;
	cJSON *values = cJSON_CreateObject();
	char buf[512];

	if (!values)
		ise_fatal("out of memory");
	cJSON_ArrayForEach(slot, slots) {
		if (slot->string && !draw(slot, r, buf, sizeof buf) &&
		    !cJSON_AddStringToObject(values, slot->string, buf))
			ise_fatal("out of memory");
	}
	return values;
}

/* The value of slot name[0..n) in values as text in buf, or NULL. */
char *ise_slots_expand(const char *text, const cJSON *values)
{
	return ise_template_expand(text, strlen(text), values);
}

cJSON *ise_slots_expand_json(const cJSON *node, const cJSON *values)
{
	cJSON *copy, *child;

	if (cJSON_IsString(node)) {
		char *s = ise_slots_expand(node->valuestring, values);
		copy = cJSON_CreateString(s);
		free(s);
	} else if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
		copy = cJSON_IsArray(node) ? cJSON_CreateArray() : cJSON_CreateObject();
		if (!copy)
			ise_fatal("out of memory");
		cJSON_ArrayForEach(child, node) {
			cJSON *c = ise_slots_expand_json(child, values);
			if (cJSON_IsArray(node))
				cJSON_AddItemToArray(copy, c);
			else
				cJSON_AddItemToObject(copy, child->string, c);
		}
	} else {
		copy = cJSON_Duplicate(node, 1);
	}
	if (!copy)
		ise_fatal("out of memory");
	return copy;
}
