/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the stored identity row (pure C with
 * jansson, no nginx types).
 *
 * A row is a JSON object: the public identity fields of the API
 * (docs/api.md, docs/openapi.yaml) plus
 * internal fields whose names start with "_" (DKIM tokens, the requested
 * MAIL FROM label, the poll attempt counter).  The API and the refresher
 * both change rows only through these functions.
 */

#ifndef SD_ROW_H
#define SD_ROW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sd_sesparse.h"
#include "sd_identity.h"
#include "sd_jsonw.h"
#include "sd_store.h"


/* progress of the add flow; a crash leaves one of these visible */
#define SD_STATE_CREATING        "creating"
#define SD_STATE_MAIL_FROM       "configuring_mail_from"
#define SD_STATE_READY           "ready"
/* the claim expired unverified (issue 13): kept for its workspace to see */
#define SD_STATE_FAILED          "failed"

/*
 * A new row's first check comes this long after its claim (seconds): the
 * add that made it is still running until then (its SES calls with their
 * timeouts and budget waits, and a deferred MAIL FROM's minute), so the
 * refresher resumes only an add that stopped (a crash), never a live one
 * (which made SES see two creates).
 */
#define SD_ROW_LIVE_GRACE        120


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

/* where the identity came from, and how its ownership is known */
#define SD_ORIGIN_CREATED        "created"
#define SD_ORIGIN_ADOPTED        "adopted"
#define SD_OWNERSHIP_PROVEN      "proven"
#define SD_OWNERSHIP_DECLARED    "declared"

/* sets "origin" and, unless NULL, "ownership" */
void sd_row_set_origin(json_t *row, const char *origin,
    const char *ownership);

/*
 * SES has the name, not created for this workspace's claim: the row
 * fails, not verified, not polled, with "registered_outside" and message.
 */
void sd_row_set_outside(json_t *row, const char *message);

/*
 * SES has the identity (created or adopted): the error cleared, a domain
 * without its MAIL FROM goes on to "configuring_mail_from", anything else
 * (an address, a domain whose MAIL FROM is kept, a domain still waiting
 * for its DNS ownership proof) is "ready".
 */
void sd_row_settle(json_t *row);

/*
 * Whose SES identity is it, by the claim tag of SES's answer (parsed):
 * SD_ROW_TAG_OURS when it carries this row's claim, SD_ROW_TAG_MODULE when
 * it names another claim (this module created it, for a claim that is
 * gone), SD_ROW_TAG_NONE without the tag (created outside this module).
 */
#define SD_ROW_TAG_NONE          0
#define SD_ROW_TAG_OURS          1
#define SD_ROW_TAG_MODULE        2

int sd_row_claim_tag(const json_t *row, const sd_ses_identity_t *si);

/*
 * How long the claim of a row that is not verified blocks others, from
 * "from" (SES's DNS search, or a verification link, starts then): a
 * domain's domain_ttl; an address's address_ttl, never beyond domain_ttl
 * from its add.
 */
void sd_row_set_claim_expiry(json_t *row, int64_t from, int64_t domain_ttl,
    int64_t address_ttl);

/* SES sent an address its verification email now; the link lasts 24 h */
#define SD_VERIFICATION_LINK_TTL  (24 * 3600)

void sd_row_set_link_sent(json_t *row, int64_t now);

/* the MAIL FROM subdomain of a domain that asks for none */
#define SD_MAIL_FROM_LABEL_DEFAULT  "pmail"

/* the MAIL FROM label asked for, or SD_MAIL_FROM_LABEL_DEFAULT */
const char *sd_row_mail_from_label(const json_t *row);

/*
 * SES took the MAIL FROM: "mail_from_domain" becomes "<label>.<id>" and
 * its status "pending" (-1, nothing set, when it is longer than a name).
 */
int sd_row_set_mail_from(json_t *row, const char *id, size_t id_len);

/*
 * The record the store keeps for a row: the header fields (flags, next
 * check, sender name) and the row's compact JSON text, which *text holds
 * (free() it once the record is written).  -1 when out of memory.
 */
int sd_row_to_record(const json_t *row, sd_record_t *out, char **text);

/*
 * SES no longer has the identity (deleted outside this module): back to
 * "creating", not verified, and a domain's MAIL FROM forgotten but its
 * label kept, so that re-creating the identity configures it again.
 */
void sd_row_set_gone(json_t *row);

#define SD_ROW_GONE_MESSAGE                                                  \
    "Amazon SES no longer has this identity (it was deleted outside this "   \
    "module); the next refresh adds it again."

/* copies what SES reports onto the row (statuses, tokens, MAIL FROM) */
void sd_row_apply_ses(json_t *row, const sd_ses_identity_t *si, int64_t now);

/* schedules the next background check; returns the time chosen */
int64_t sd_row_schedule(json_t *row, int64_t now, int64_t base,
    int64_t max, int changed);

/* store header flags (SD_REC_*) derived from the row */
unsigned sd_row_flags(const json_t *row);

/* SD_REC_DKIM_* for a dkim_status value (0: none or unknown) */
unsigned sd_row_dkim_flag(const char *dkim_status);

/*
 * Ownership (docs/decisions.md): "proven" (this workspace's claim created
 * the identity in SES), "declared" (the platform's legacy list), or
 * "unproven" (adopted from SES without proof: never counts as verified).
 * A row stored before the field existed is unproven when it was adopted.
 */
int sd_row_unproven(const json_t *row);

/*
 * A claim that is not verified by claim_expires_at stops blocking other
 * workspaces: the row becomes "failed" with the restart explanation
 * (returns 1 when it did now).
 */
int sd_row_expire(json_t *row, int64_t now);

/* a row whose claim is released gets purge_at = now + grace (once) */
void sd_row_abandon(json_t *row, int64_t now, int64_t grace);

/* when the refresher should look next (0: only a person restarts it) */
int64_t sd_row_next_check(const json_t *row);

/*
 * The public object (docs/openapi.yaml's Identity): internal fields dropped, DNS records
 * added, written as json_dumps(JSON_COMPACT) of it would be.
 *
 * A view lists a row's members in stored order and the fields the public
 * form is made of (sd_str_t data NULL: absent or not a string), either
 * from the stored text itself (sd_row_view_text(): no tree is built; -1
 * when the text is anything but a plain row, and the caller parses it
 * instead) or from a parsed row (sd_row_view_tree(); its members borrow
 * the row's values).  sd_row_write_view() writes it (-1 when w failed).
 * sd_row_write_public() and sd_row_public() do all that for a parsed row.
 */

#define SD_ROW_MEMBERS_MAX       64

typedef struct {
    sd_str_t                key;        /* no escapes in it */
    sd_str_t                raw;        /* the value's text, or */
    const json_t           *value;      /* the value (a view of a tree) */
} sd_row_member_t;

typedef struct {
    size_t                  nmembers;
    sd_row_member_t         members[SD_ROW_MEMBERS_MAX];

    sd_str_t                identity;
    sd_str_t                type;
    sd_str_t                kind;
    sd_str_t                state;
    sd_str_t                mail_from_domain;
    sd_str_t                zone;
    sd_str_t                origin;
    sd_str_t                ownership;
    sd_str_t                own_token;  /* the ownership proof's token */
    size_t                  ntokens;
    sd_str_t                tokens[SD_SES_MAX_DKIM_TOKENS];
} sd_row_view_t;

int sd_row_view_text(sd_row_view_t *v, const char *json, size_t len);
int sd_row_view_tree(sd_row_view_t *v, const json_t *row);
int sd_row_view_is_domain(const sd_row_view_t *v);
int sd_row_write_view(sd_jsonw_t *w, const sd_row_view_t *v,
    const char *region, const char *inherited_from);

int sd_row_write_public(sd_jsonw_t *w, const json_t *row,
    const char *region, const char *inherited_from);
json_t *sd_row_public(const json_t *row, const char *region,
    const char *inherited_from);

#endif /* SD_ROW_H */
