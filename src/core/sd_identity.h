/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: identity names (pure core).
 *
 * Validation and normalisation of domains, email addresses, MAIL FROM
 * labels and sender display names, plus the ownership-tree helpers used
 * for conflict checks.  Plain C, no nginx types, no allocation, no global
 * mutable state, so the nginx glue and the unit tests share it.
 *
 * Conventions used by every function here:
 *
 *   - inputs are (pointer, length) pairs and need not be NUL-terminated,
 *     as nginx strings are not;
 *   - outputs go to a caller buffer of "outsz" bytes; on success the
 *     output is NUL-terminated and the length without the NUL is
 *     returned, so the buffer must hold the result plus one byte;
 *   - on failure a negative sd_err_e is returned, nothing useful is in
 *     the buffer, and *errmsg (when errmsg is not NULL) points to a
 *     static English sentence fit for an API error message.
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_IDENTITY_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_IDENTITY_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define SD_LABEL_MAX              63    /* RFC 1035 2.3.4 */
#define SD_DOMAIN_MAX             253   /* without the root dot */
#define SD_LOCAL_MAX              64    /* RFC 5321 4.5.3.1.1 */
#define SD_EMAIL_MAX              254   /* RFC 5321 path limit minus <> */
#define SD_SENDER_NAME_MAX_CHARS  100   /* Unicode code points */
#define SD_SENDER_NAME_MAX_BYTES  (SD_SENDER_NAME_MAX_CHARS * 4)

/* an address key is one byte longer than the address: see sd_tree_key() */
#define SD_TREE_KEY_MAX           (SD_EMAIL_MAX + 1)

/* buffer sizes that always suffice (result plus the NUL) */
#define SD_DOMAIN_BUFSZ           (SD_DOMAIN_MAX + 1)
#define SD_EMAIL_BUFSZ            (SD_EMAIL_MAX + 1)
#define SD_LABEL_BUFSZ            (SD_LABEL_MAX + 1)
#define SD_SENDER_NAME_BUFSZ      (SD_SENDER_NAME_MAX_BYTES + 1)
#define SD_TREE_KEY_BUFSZ         (SD_TREE_KEY_MAX + 1)


/* a borrowed string; same member order as ngx_str_t */
typedef struct {
    size_t          len;
    const char     *data;
} sd_str_t;


typedef enum {
    SD_OK = 0,

    /* generic */
    SD_ERR_NOSPACE = -1,            /* caller's output buffer too small */
    SD_ERR_INVALID_ARG = -2,        /* NULL where a value is required */

    /* domains (also the domain part of an address) */
    SD_ERR_DOMAIN_EMPTY = -10,
    SD_ERR_DOMAIN_WHITESPACE = -11,
    SD_ERR_DOMAIN_IS_EMAIL = -12,
    SD_ERR_DOMAIN_IS_URL = -13,
    SD_ERR_DOMAIN_IS_IP = -14,
    SD_ERR_DOMAIN_NON_ASCII = -15,
    SD_ERR_DOMAIN_WILDCARD = -16,
    SD_ERR_DOMAIN_CHAR = -17,
    SD_ERR_DOMAIN_EMPTY_LABEL = -18,
    SD_ERR_DOMAIN_LABEL_LONG = -19,
    SD_ERR_DOMAIN_HYPHEN = -20,
    SD_ERR_DOMAIN_TOO_LONG = -21,
    SD_ERR_DOMAIN_ONE_LABEL = -22,
    SD_ERR_DOMAIN_NUMERIC_TLD = -23,

    /* email addresses */
    SD_ERR_EMAIL_EMPTY = -30,
    SD_ERR_EMAIL_NO_AT = -31,
    SD_ERR_EMAIL_NAME_ADDR = -32,   /* "Name <a@b>" where a bare address fits */
    SD_ERR_EMAIL_WHITESPACE = -33,
    SD_ERR_EMAIL_QUOTED = -34,
    SD_ERR_EMAIL_MULTI_AT = -35,
    SD_ERR_EMAIL_LOCAL_EMPTY = -36,
    SD_ERR_EMAIL_LOCAL_LONG = -37,
    SD_ERR_EMAIL_LOCAL_DOT = -38,
    SD_ERR_EMAIL_LOCAL_CHAR = -39,
    SD_ERR_EMAIL_NON_ASCII = -40,
    SD_ERR_EMAIL_NO_DOMAIN = -41,
    SD_ERR_EMAIL_LITERAL = -42,
    SD_ERR_EMAIL_TOO_LONG = -43,
    SD_ERR_EMAIL_ENCODED_WORD = -44,    /* "=?" in the local part */

    /* MAIL FROM subdomain label */
    SD_ERR_LABEL_EMPTY = -50,
    SD_ERR_LABEL_DOT = -51,
    SD_ERR_LABEL_CHAR = -52,
    SD_ERR_LABEL_NON_ASCII = -53,
    SD_ERR_LABEL_LONG = -54,
    SD_ERR_LABEL_HYPHEN = -55,
    SD_ERR_LABEL_MAIL_FROM_LONG = -56,

    /* sender display name */
    SD_ERR_NAME_TOO_LONG = -60,
    SD_ERR_NAME_UTF8 = -61,
    SD_ERR_NAME_CONTROL = -62,
    SD_ERR_NAME_LINE_SEP = -63,
    SD_ERR_NAME_BIDI = -64,
    SD_ERR_NAME_FORMAT = -65,       /* other invisible format characters */
    SD_ERR_NAME_LINE_LONG = -66,    /* the From line would pass 998 octets */

    /* From header values (sd_from.h) */
    SD_ERR_FROM_EMPTY = -70,
    SD_ERR_FROM_CONTROL = -71,
    SD_ERR_FROM_UTF8 = -72,
    SD_ERR_FROM_MULTIPLE = -73,
    SD_ERR_FROM_GROUP = -74,
    SD_ERR_FROM_COMMENT = -75,
    SD_ERR_FROM_QUOTE = -76,
    SD_ERR_FROM_SYNTAX = -77,
    SD_ERR_FROM_NO_ADDR = -78,
    SD_ERR_FROM_BAD_ADDR = -79,
    SD_ERR_FROM_ENCODED_WORD = -80, /* "=?" in the address's local part */
    SD_ERR_FROM_LINE_LONG = -81,    /* "From: " and the value pass 998 */
    SD_ERR_DOMAIN_IDN = -82
} sd_err_e;


/* the sender-name errors (-60..-69): a resolver reason of their own */
#define sd_err_is_name(err)  ((err) <= SD_ERR_NAME_TOO_LONG && (err) > -70)


typedef enum {
    SD_KIND_INVALID = 0,
    SD_KIND_DOMAIN,
    SD_KIND_EMAIL
} sd_kind_e;


/* the message for an error code; never NULL */
const char *sd_strerror(int err);

/* "  ACME.com. " -> "acme.com" */
ssize_t sd_domain_normalize(const char *in, size_t len, char *out,
    size_t outsz, const char **errmsg);

/* " Reports@ACME.com " -> "Reports@acme.com" (local part kept as typed) */
ssize_t sd_email_normalize(const char *in, size_t len, char *out,
    size_t outsz, const char **errmsg);

/* MAIL FROM label "PMail" -> "pmail"; domain may be NULL (no 253 check) */
ssize_t sd_label_validate(const char *in, size_t len, const char *domain,
    size_t domain_len, char *out, size_t outsz, const char **errmsg);

/* label + normalised domain -> "pmail.acme.com" */
ssize_t sd_mail_from_domain(const char *label, size_t label_len,
    const char *domain, size_t domain_len, char *out, size_t outsz,
    const char **errmsg);

/* display name: outer spaces trimmed, "" allowed, <= 100 code points */
ssize_t sd_sender_name_validate(const char *in, size_t len, char *out,
    size_t outsz, const char **errmsg);

/*
 * The rules of sd_sender_name_validate() on a name as it is (no trim,
 * no copy): SD_OK or an SD_ERR_NAME_* code.  For names that reach a
 * header by another way (the resolver's ?from=).
 */
ssize_t sd_sender_name_check(const char *in, size_t len);

/*
 * Why a code point may not be in a display name: 0 when it may, else
 * SD_ERR_NAME_CONTROL, _LINE_SEP, _BIDI or _FORMAT (see the .c file).
 */
int sd_name_char_refused(uint32_t cp);

/*
 * An address that is kept out of headers: its local part holds "=?",
 * which mail readers decode as an RFC 2047 encoded-word (Python's email
 * package does, even in an address).  SD_OK or SD_ERR_EMAIL_ENCODED_WORD.
 * For a normalised address; used on add and on PUT /legacy.
 */
ssize_t sd_email_header_check(const char *addr, size_t len,
    const char **errmsg);

/* of a normalised name: an '@' makes it an address */
sd_kind_e sd_identity_kind(const char *name, size_t len);

/* the domain of an address, or a domain itself */
const char *sd_identity_domain_part(const char *name, size_t len,
    size_t *domain_len);

/* 1 if child is parent or under it, on label boundaries, any case */
int sd_domain_is_within(const char *child, size_t child_len,
    const char *parent, size_t parent_len);

/* 1 if the ownership trees of two normalised identities overlap */
int sd_identities_conflict(const char *a, size_t a_len, const char *b,
    size_t b_len);

/*
 * Ownership-tree key: "mail.acme.com" -> "com.acme.mail.",
 * "Reports@acme.com" -> "com.acme.@reports" (all lower-case).  The keys
 * of everything under a domain D form the range of keys that start with
 * key(D); see the .c file for the proof.  Length <= SD_TREE_KEY_MAX.
 */
ssize_t sd_tree_key(const char *name, size_t len, char *out, size_t outsz);

/* strict UTF-8: bytes used by the character at p, or -1 if invalid */
int sd_utf8_decode(const unsigned char *p, const unsigned char *end,
    uint32_t *cp);

/*
 * Quick scans of the send-time path, eight bytes at a time: whether every
 * byte is printable ASCII (0x20-0x7e), and whether a JSON string holding
 * these bytes needs no escape (no '"', no '\\', no byte below 0x20).
 * Both answers are exact.
 */
int sd_ascii_printable(const unsigned char *p, size_t len);
int sd_json_plain(const unsigned char *p, size_t len);

/*
 * A value that came with a request (a workspace, a name, a From) as it
 * may appear in a log line: '"', '\\', every control (ESC, CR, LF, ...),
 * DEL and every byte from 0x80 up written as \xHH, as nginx's access log
 * escapes them, so that no value can end the quoted field, forge a line
 * or drive a terminal.  sd_log_escape() returns the length written, or
 * with dst NULL the length it would write; sd_log_plain() is 1 when the
 * value needs no escape at all (the usual case: no copy).
 */
size_t sd_log_escape(unsigned char *dst, const unsigned char *src,
    size_t len);
int sd_log_plain(const unsigned char *p, size_t len);


#endif /* _NGX_HTTP_SENDER_DOMAINS_IDENTITY_H_INCLUDED_ */
