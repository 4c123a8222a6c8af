/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: the refresher's polling schedule.
 *
 * SES looks for DNS records for 72 hours.  Polling a pending identity
 * every minute at first makes a quick DNS change show up quickly; doubling
 * while nothing changes keeps a forgotten domain from costing an SES call
 * a minute for three days; the jitter keeps identities added in one
 * batch from polling in lockstep against the SES rate limit.
 */


#include "sd_backoff.h"


static uint64_t sd_backoff_mix(uint64_t x);


uint32_t
sd_backoff_next(uint32_t base_interval_s, uint32_t attempt, uint32_t max_s,
    uint64_t jitter_seed)
{
    uint32_t  n;
    uint64_t  v, max, span, r;

    v = base_interval_s ? base_interval_s : SD_BACKOFF_DEFAULT_BASE;
    max = max_s ? max_s : SD_BACKOFF_DEFAULT_MAX;

    /* at most 32 doublings before v passes any uint32_t max */
    for (n = attempt; n > 0 && v < max; n--) {
        v <<= 1;
    }

    if (v > max) {
        v = max;
    }

    span = v / 10;

    if (span == 0) {
        return (uint32_t) v;
    }

    /* the attempt is mixed in so that successive waits differ too */
    r = sd_backoff_mix(jitter_seed
                       ^ ((uint64_t) attempt * 0x9E3779B97F4A7C15ULL));

    v = v - span + r % (2 * span + 1);

    /*
     * Past the cap the value is folded back below it rather than clamped:
     * clamping would put half of all capped identities on the very same
     * second, folding keeps them spread over [max - 10 %, max].
     */
    if (v > max) {
        v = 2 * max - v;
    }

    return (uint32_t) (v ? v : 1);
}


uint32_t
sd_backoff_verified_interval(void)
{
    return SD_BACKOFF_VERIFIED;
}


uint64_t
sd_backoff_seed(const char *name, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) name[i];
        h *= 0x100000001b3ULL;
    }

    return h;
}


/* splitmix64's finalizer: every seed bit reaches every output bit */
static uint64_t
sd_backoff_mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;

    return x ^ (x >> 31);
}
