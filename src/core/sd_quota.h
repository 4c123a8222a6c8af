/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: per-identity cooldowns (pure C).
 *
 * A row keeps what its cooldowns need in one internal member, "_limits":
 *   {"refresh_at": epoch s of the last refresh that called SES,
 *    "resends": [epoch s of each resend within the last 24 h]}
 * The API never shows it; a write of the row keeps the stored copy
 * (ngx_http_sender_domains_identity_api.c).
 */

#ifndef SD_QUOTA_H
#define SD_QUOTA_H

#include <stdint.h>
#include <jansson.h>


#define SD_QUOTA_KEY                "_limits"

/* the defaults of the directives (docs/directives.md) */
#define SD_REFRESH_COOLDOWN         10      /* s between SES refreshes */
#define SD_RESEND_COOLDOWN          60      /* s after the last email */
#define SD_RESEND_MAX               5       /* resends per window */
#define SD_RESEND_WINDOW            86400   /* s */


/*
 * 0: a refresh may call SES now; else the seconds until it may.
 * "cooldown" 0: no cooldown.
 */
int64_t sd_quota_refresh_wait(const json_t *row, int64_t now,
    int64_t cooldown);
void sd_quota_refresh_note(json_t *row, int64_t now);

/*
 * 0: a resend may call SES now; else the seconds until it may: at least
 * "cooldown" s after the last email (the add's counts too,
 * "verification_email_sent_at"), at most "max" resends in 24 h (0: no
 * daily limit).  *daily is set when the 24 h allowance is what is spent.
 */
int64_t sd_quota_resend_wait(const json_t *row, int64_t now,
    int64_t cooldown, int64_t max, int *daily);
void sd_quota_resend_note(json_t *row, int64_t now);

/* copies the "_limits" of "from" (the stored row) into "to" */
void sd_quota_keep(json_t *to, const json_t *from);

#endif /* SD_QUOTA_H */
