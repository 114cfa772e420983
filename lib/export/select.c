#include "export/select.h"

int ise_select_keeps(const cJSON *record, unsigned selection, unsigned *has)
{
	const cJSON *verification = cJSON_GetObjectItemCaseSensitive(record, "verification");
	const cJSON *audit = cJSON_GetObjectItemCaseSensitive(record, "audit");
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(audit, "flags");
	int keep = 1;

	if (cJSON_IsObject(verification))
		*has |= ISE_SELECT_VERIFIED;
	if (cJSON_IsObject(audit))
		*has |= ISE_SELECT_CLEAN;
	if (selection & ISE_SELECT_VERIFIED)
		keep &= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verification, "verified"));
	if (selection & ISE_SELECT_CLEAN)
		keep &= cJSON_IsArray(flags) && !flags->child;
	return keep;
}
