/*
 * addrguard: which addresses the web tools may not reach (see
 * addrguard_int.h).  Only the address is judged, never a name: the caller
 * asks for every address it is about to connect to.
 */
#include "exec/addrguard_int.h"

#include <stdint.h>
#include <string.h>

/* What kind of non-public address a (host order) is, with its article;
 * NULL for a public one. */
const char *ise_addr_blocked_v4(uint32_t a)
{
	if ((a >> 24) == 0)
		return "an unspecified (0.0.0.0/8)";
	if ((a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168))
		return "a private";
	if ((a >> 24) == 127)
		return "a loopback";
	if ((a >> 16) == ((169u << 8) | 254))
		return "a link-local";
	if ((a >> 22) == ((100u << 2) | 1))
		return "a shared (100.64.0.0/10)";
	if ((a >> 28) >= 14)
		return "a multicast or reserved";
	return NULL;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

const char *ise_addr_blocked_v6(const unsigned char *a)
{
	static const unsigned char zero[12],
	    mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
	    translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
	    nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (!memcmp(a, zero, 12)) { /* ::, ::1 and v4-compatible ::a.b.c.d */
		uint32_t v = v4_at(a + 12);
		if (v == 0)
			return "an unspecified";
		if (v == 1)
			return "a loopback";
		return ise_addr_blocked_v4(v);
	}
	if (!memcmp(a, mapped, 12) || !memcmp(a, translated, 12) || !memcmp(a, nat64, 12))
		return ise_addr_blocked_v4(v4_at(a + 12));
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 2002:AABB:CCDD::/48 */
		return ise_addr_blocked_v4(v4_at(a + 2));
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "a link-local";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "a site-local";
	if ((a[0] & 0xfe) == 0xfc)
		return "a unique local";
	if (a[0] == 0xff)
		return "a multicast";
	return NULL;
}
