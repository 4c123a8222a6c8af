/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: AWS credentials.
 *
 * Pure C (no nginx types, no global state).  Parses the AWS shared
 * credentials file (~/.aws/credentials format) from a memory buffer that
 * the caller has read, or takes the credentials from the environment.
 *
 * The result is a fixed-size struct of NUL-terminated arrays, so there is
 * nothing to free; wipe it with sd_credentials_wipe() when it is no longer
 * needed.  Error messages name files' line numbers, profile and key names
 * and limits, never a value, so they are safe for the error log.
 *
 * File format accepted (what botocore reads, a little more leniently):
 *
 *   # comment            ; comment too (first non-blank character)
 *   [default]
 *   aws_access_key_id = AKIDEXAMPLE
 *   aws_secret_access_key=wJalr...
 *   aws_session_token = ...       (or the legacy aws_security_token)
 *
 *   - LF or CRLF line ends, a UTF-8 byte order mark, blank lines;
 *   - "name = value" or "name: value", spaces around the delimiter;
 *   - key names case-insensitive, section names exact (trimmed);
 *   - a key given twice (or a section given twice): the last value wins;
 *   - " # text" or " ; text" after a value is a comment;
 *   - other keys (region, output, ...) and other sections are ignored;
 *   - continuation lines are not supported.
 */

#ifndef NGX_HTTP_SENDER_DOMAINS_CREDENTIALS_H
#define NGX_HTTP_SENDER_DOMAINS_CREDENTIALS_H

#include <stddef.h>


#define SD_CRED_ACCESS_KEY_MAX      128
#define SD_CRED_SECRET_KEY_MAX      128
#define SD_CRED_SESSION_TOKEN_MAX   4096
#define SD_CRED_DEFAULT_PROFILE     "default"
#define SD_CRED_ERR_LEN             256     /* enough for any message */


typedef enum {
    SD_CRED_OK = 0,
    SD_CRED_NOT_FOUND,          /* no such profile; no variables set */
    SD_CRED_MISSING_KEY,        /* access key or secret missing or empty */
    SD_CRED_TOO_LONG,           /* a value does not fit its array */
    SD_CRED_BAD_VALUE,          /* whitespace or control bytes in a value */
    SD_CRED_SYNTAX,             /* a line that is not a section or a key */
    SD_CRED_EINVAL              /* bad arguments */
} sd_cred_rc_e;


typedef struct {
    char    access_key[SD_CRED_ACCESS_KEY_MAX + 1];
    char    secret_key[SD_CRED_SECRET_KEY_MAX + 1];
    char    session_token[SD_CRED_SESSION_TOKEN_MAX + 1];  /* "" if none */
} sd_credentials_t;


/* the type of getenv(3), so getenv itself can be passed */
typedef char *(*sd_getenv_pt)(const char *name);


/*
 * Fills cred from the section [profile] (NULL or "" means "default") of a
 * credentials file held in buf/len (no NUL needed).  On error cred is
 * wiped and, when err is not NULL, err gets a NUL-terminated message.
 */
sd_cred_rc_e sd_credentials_parse(const char *buf, size_t len,
    const char *profile, sd_credentials_t *cred, char *err,
    size_t err_size);

/*
 * Fills cred from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the
 * optional AWS_SESSION_TOKEN (or the legacy AWS_SECURITY_TOKEN).  Empty
 * variables count as unset; SD_CRED_NOT_FOUND means none of the two keys
 * is set, so the caller can fall back to something else.
 */
sd_cred_rc_e sd_credentials_from_env(sd_getenv_pt getenv_fn,
    sd_credentials_t *cred, char *err, size_t err_size);

/* zeroes cred in a way the compiler cannot optimise away */
void sd_credentials_wipe(sd_credentials_t *cred);

const char *sd_credentials_strerror(sd_cred_rc_e rc);


#endif /* NGX_HTTP_SENDER_DOMAINS_CREDENTIALS_H */
