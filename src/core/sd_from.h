/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: From header values (pure core).
 *
 * Used by the send-time resolver, so nothing here allocates: results go
 * to caller buffers.  Conventions as in sd_identity.h
 * (pointer/length inputs, NUL-terminated outputs, negative sd_err_e on
 * failure, sd_strerror() for the message).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_FROM_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_FROM_H_INCLUDED_


#include "sd_identity.h"


/*
 * Large enough for any validated sender name (at most 400 bytes of
 * UTF-8, i.e. at most 10 encoded-words of 72 characters and 9 spaces)
 * plus " <" address ">" and the NUL: 729 + 257 + 1.  "From: " and this
 * stay under RFC 5322's 998-character line limit.
 */
#define SD_FROM_BUFSZ  1024

/*
 * RFC 5322 2.1.1: a line is at most 998 characters without its CRLF.
 * sd_from_format() refuses a value that would make "From: " and the value
 * longer.
 */
#define SD_FROM_LINE_MAX    998
#define SD_FROM_VALUE_MAX   (SD_FROM_LINE_MAX - (sizeof("From: ") - 1))


ssize_t sd_from_parse(const char *in, size_t len, char *name, size_t namesz,
    size_t *name_len, const char **addr, size_t *addr_len,
    const char **errmsg);
ssize_t sd_from_format(const char *name, size_t name_len, const char *addr,
    size_t addr_len, char *out, size_t outsz);
/*
 * Whether a display name that passed sd_sender_name_check() fits any
 * From line: "From: ", the name as sd_from_format() writes it (atoms,
 * quoted or encoded-words), " <", the longest address (254) and ">" in
 * at most 998 octets.  SD_OK or SD_ERR_NAME_LINE_LONG.
 */
ssize_t sd_from_name_fits(const char *name, size_t len);

int sd_address_domain_match(const char *addr, size_t addr_len,
    const char *domain, size_t domain_len);


#endif /* _NGX_HTTP_SENDER_DOMAINS_FROM_H_INCLUDED_ */
