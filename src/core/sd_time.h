/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: timestamps (pure C).
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_TIME_H
#define NGX_HTTP_SENDER_DOMAINS_TIME_H

#include <stddef.h>
#include <stdint.h>


#define SD_TIME_RFC3339_LEN  20         /* "2026-11-26T10:00:00Z" */

/*
 * Parses an RFC 3339 timestamp ("2026-11-26T10:00:00Z", with optional
 * fraction and numeric offset) or decimal epoch seconds.  Returns 0 and
 * stores epoch seconds, or -1 when the text is neither.
 */
int sd_time_parse(const char *p, size_t len, int64_t *out);

/* writes exactly SD_TIME_RFC3339_LEN characters, no NUL */
void sd_time_format(int64_t t, char *out);

#endif /* NGX_HTTP_SENDER_DOMAINS_TIME_H */
