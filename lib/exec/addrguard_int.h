/*
 * addrguard: the web tools' guard against server-side request forgery.
 * It says whether an address is loopback, private, link-local, shared
 * (100.64.0.0/10), unspecified, multicast or reserved, in IPv4 and in every
 * IPv6 form that carries an IPv4 address (v4-mapped, v4-translated,
 * v4-compatible, NAT64 64:ff9b::/96 and 6to4 2002::/16), and IPv6's own
 * link-local, site-local, unique local and multicast ranges.  web.c asks
 * for every socket libcurl opens, so redirects, DNS names and DNS rebinding
 * all meet the same check.
 */
#ifndef ISE_ADDRGUARD_INT_H
#define ISE_ADDRGUARD_INT_H

#include <stdint.h>

/* The kind of non-public address a (IPv4, host order) is, with its article
 * ("a private", "a loopback", ...); NULL for a public one. */
const char *ise_addr_blocked_v4(uint32_t a);
/* The same for an IPv6 address, a[0..16) in network order. */
const char *ise_addr_blocked_v6(const unsigned char *a);

#endif
