/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: the refresher's polling schedule
 * (pure core, no nginx types, no global state).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_BACKOFF_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_BACKOFF_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define SD_BACKOFF_DEFAULT_BASE   60       /* seconds */
#define SD_BACKOFF_DEFAULT_MAX    3600     /* seconds */
#define SD_BACKOFF_VERIFIED       86400    /* seconds: once a day */


/*
 * Seconds until the next SES poll of a pending identity whose status
 * has not changed in "attempt" polls (0 after a change or when new):
 * base * 2^attempt, capped at max, then spread by a deterministic
 * +/-10 % jitter drawn from jitter_seed and attempt.  The result never
 * exceeds max and is at least 1.  base 0 means SD_BACKOFF_DEFAULT_BASE,
 * max 0 means SD_BACKOFF_DEFAULT_MAX.
 */
uint32_t sd_backoff_next(uint32_t base_interval_s, uint32_t attempt,
    uint32_t max_s, uint64_t jitter_seed);

/* how often a verified identity is re-checked (it can be revoked) */
uint32_t sd_backoff_verified_interval(void);

/*
 * A jitter seed from an identity name (FNV-1a), so that identities
 * added together spread out, and the same one always gets the same
 * schedule.
 */
uint64_t sd_backoff_seed(const char *name, size_t len);


#endif /* _NGX_HTTP_SENDER_DOMAINS_BACKOFF_H_INCLUDED_ */
