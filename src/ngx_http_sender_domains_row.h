/*
 * Custom Sender Domains for nginx: the stored identity row (pure C with
 * jansson, no nginx types).
 *
 * A row is a JSON object: the public identity fields of DESIGN.md §4 plus
 * internal fields whose names start with "_" (DKIM tokens, the requested
 * MAIL FROM label, the poll attempt counter).  The API and the refresher
 * both change rows only through these functions.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_ROW_H
#define NGX_HTTP_SENDER_DOMAINS_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "ngx_http_sender_domains_sesparse.h"


/* progress of the add flow; a crash leaves one of these visible */
#define SD_STATE_CREATING        "creating"
#define SD_STATE_MAIL_FROM       "configuring_mail_from"
#define SD_STATE_READY           "ready"


json_t *sd_row_new(const char *id, size_t id_len, int is_domain,
    const char *sender_name, size_t sender_name_len,
    const char *mail_from_label, size_t mail_from_label_len, int64_t now);
json_t *sd_row_legacy(const char *addr, size_t addr_len, const char *name,
    size_t name_len);

const char *sd_row_str(const json_t *row, const char *key);
int sd_row_is_domain(const json_t *row);
int sd_row_in_state(const json_t *row, const char *state);

void sd_row_set_state(json_t *row, const char *state);
void sd_row_set_str(json_t *row, const char *key, const char *v, size_t len);
void sd_row_set_time(json_t *row, const char *key, int64_t t);
void sd_row_set_error(json_t *row, const char *code, const char *message);
void sd_row_clear_error(json_t *row);

/* copies what SES reports onto the row (statuses, tokens, MAIL FROM) */
void sd_row_apply_ses(json_t *row, const sd_ses_identity_t *si, int64_t now);

/* schedules the next background check; returns the time chosen */
int64_t sd_row_schedule(json_t *row, int64_t now, int64_t base,
    int64_t max, int changed);

/* store header flags (SD_REC_*) derived from the row */
unsigned sd_row_flags(const json_t *row);

/* SD_REC_DKIM_* for a dkim_status value (0: none or unknown) */
unsigned sd_row_dkim_flag(const char *dkim_status);

/* when the refresher should look next (0: only a person restarts it) */
int64_t sd_row_next_check(const json_t *row);

/* the public object: internal fields dropped, DNS records added */
json_t *sd_row_public(const json_t *row, const char *region,
    const char *inherited_from);

#endif /* NGX_HTTP_SENDER_DOMAINS_ROW_H */
