/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: the ownership proof of a domain that
 * already exists in the shared SES account (pure core, jansson only).
 *
 * SES's status is the account's: a domain some other party verified there
 * counts for a workspace only once that workspace shows it controls the
 * domain's DNS, by publishing
 *
 *     _sender-domains.<domain>  TXT  "sd-verify=<token>"
 *
 * where the token is random (drawn by the caller from a CSPRNG), made for
 * one row (one workspace and one identity) and stored with it, so no other
 * workspace can derive or reuse it.  Until the record is seen the row is
 * "ownership":"unproven": it sends nothing, holds no exclusive claim (the
 * real owner cannot be blocked by it), and expires like any unverified
 * claim.  The first workspace to prove takes the claim; the other unproven
 * rows of the name turn failed with a neutral reason.
 */


#ifndef SD_OWNERSHIP_H
#define SD_OWNERSHIP_H


#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "sd_dnswire.h"
#include "sd_jsonw.h"
#include "sd_identity.h"


#define SD_OWN_LABEL            "_sender-domains"
#define SD_OWN_PREFIX           "sd-verify="

/* random bytes in a token: 160 bits, 32 base32 characters */
#define SD_OWN_RANDOM_BYTES     20
#define SD_OWN_TOKEN_LEN        32
#define SD_OWN_TOKEN_BUFSZ      (SD_OWN_TOKEN_LEN + 1)

/* the row's internal field that holds the token */
#define SD_OWN_TOKEN_FIELD      "_ownership_token"

/* the reason a row loses to the workspace that proved first */
#define SD_OWN_ELSEWHERE        "claimed_elsewhere"


/*
 * Encodes n random bytes as lower-case base32 (RFC 4648 alphabet, no
 * padding) into out; returns the length, or -1 when out is too small or
 * n is not SD_OWN_RANDOM_BYTES.
 */
int sd_own_token(const unsigned char *rnd, size_t n, char *out,
    size_t outsz);

/* 1 when s is a token as sd_own_token() makes them */
int sd_own_token_valid(const char *s, size_t len);

/* "_sender-domains.<domain>" into out; its length, or -1 */
int sd_own_name(const char *domain, size_t len, char *out, size_t outsz);


/* what one TXT record at the name says about this row's token */
typedef enum {
    SD_OWN_TXT_OTHER = 0,       /* not an sd-verify record */
    SD_OWN_TXT_MATCH,           /* sd-verify=<this token> */
    SD_OWN_TXT_MATCH_QUOTED,    /* the same inside literal quotes */
    SD_OWN_TXT_WRONG            /* sd-verify= with another value */
} sd_own_txt_e;

/*
 * Compares one TXT record's value (its strings joined without a
 * separator, as RFC 7208 joins them: a value a provider split into
 * several strings matches) with "sd-verify=<token>": the prefix in any
 * case, the token exactly (lower case; upper case typed by hand is
 * accepted, base32 is case-insensitive), surrounding blanks ignored.
 * Quotes a DNS provider kept as part of the value still prove control
 * (the token is there), and are reported so the card can say so.
 */
sd_own_txt_e sd_own_txt(const char *data, size_t len, const char *token);


/* the proof's outcome from a TXT answer at the name */
typedef enum {
    SD_OWN_FOUND = 0,           /* one record carries this row's token */
    SD_OWN_MISSING,             /* no sd-verify record (or no name) */
    SD_OWN_WRONG                /* sd-verify records, none with the token */
} sd_own_verdict_e;

/*
 * Looks at every TXT record owned by "name" in the answer (NULL: no
 * answer: SD_OWN_MISSING).  *quoted is set when the token was found only
 * inside literal quotes.
 */
sd_own_verdict_e sd_own_check(const sd_dnsw_answer_t *a, const char *name,
    const char *token, int *quoted);


/* 1 when the row waits for a DNS ownership proof (unproven, has a token) */
int sd_own_pending(const json_t *row);

/*
 * An identity SES verified outside this workspace: stored unproven with a
 * fresh token ("ses_verified": what SES says, kept for when it is proven).
 * Returns 0, -1 on a bad token.
 */
int sd_own_set_unproven(json_t *row, const char *token, int ses_verified);

/*
 * The TXT record was found: the row is proven, verified for sending as SES
 * says (the status SES reported while unproven), its claim held for good
 * when verified.  Returns 1 when the row changed, 0 when it was not
 * pending.
 */
int sd_own_prove(json_t *row);

/*
 * Another workspace proved control first (or holds the name): the row
 * turns failed, sends nothing, and says so without naming anyone.
 */
void sd_own_lose(json_t *row);

/* SES's status of an unproven row, kept while it does not count */
void sd_own_note_ses(json_t *row, int ses_verified);

/*
 * The ownership record for the identity's "dns_records" (group
 * "ownership", requirement "required"), written as one JSON object.
 */
int sd_own_write_record(sd_jsonw_t *w, const sd_str_t *domain,
    const sd_str_t *token);


#endif /* SD_OWNERSHIP_H */
