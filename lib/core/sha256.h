/*
 * sha256: FIPS 180-4 SHA-256, for content-addressed cache keys.
 */
#ifndef ISE_SHA256_H
#define ISE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* hex receives 64 lowercase hex digits and a NUL. */
void ise_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
