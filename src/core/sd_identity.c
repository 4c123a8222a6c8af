/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: identity names (pure core).
 *
 * See sd_identity.h for the calling conventions.
 * Everything here is locale-independent on purpose: tolower() and
 * strcasecmp() follow LC_CTYPE, and a Turkish locale would fold 'I'
 * to a dotless i; DNS only ever folds ASCII.
 */


#include <stdlib.h>
#include <string.h>
#include <idn2.h>

#include "sd_identity.h"


/* longer than any name: what idn2 is given at most */
#define SD_IDN_IN_MAX  1024


typedef enum {
    SD_CTX_DOMAIN = 0,      /* a domain typed on its own */
    SD_CTX_EMAIL            /* the part of an address after the '@' */
} sd_ctx_e;


/* what the local part of an address holds that it should not */
#define SD_LOCAL_AT          0x01
#define SD_LOCAL_NON_ASCII   0x02
#define SD_LOCAL_QUOTE       0x04
#define SD_LOCAL_OTHER       0x08
#define SD_LOCAL_DOTS        0x10


static int sd_word_odd(uint64_t v, int json);
static int sd_words_plain(const unsigned char *p, size_t len, int json);
static int sd_is_space(unsigned char c);
static void sd_trim(const unsigned char **p, size_t *len);
static unsigned char sd_lower(unsigned char c);
static int sd_is_alnum(unsigned char c);
static int sd_is_atext(unsigned char c);
static int sd_caseeq(const char *a, const char *b, size_t len);
static const unsigned char *sd_find(const unsigned char *p, size_t len,
    const char *s);
static int sd_looks_like_ipv6(const unsigned char *p, size_t len);
static ssize_t sd_domain_precheck(const unsigned char *p, size_t len);
static ssize_t sd_domain_idn(const unsigned char **p, size_t *len,
    unsigned char *buf, size_t bufsz);
static ssize_t sd_domain_ace_check(const unsigned char *p, size_t len);
static ssize_t sd_domain_check(const unsigned char *p, size_t len,
    sd_ctx_e ctx);
static ssize_t sd_fail(ssize_t err, const char **errmsg);


const char *
sd_strerror(int err)
{
    switch (err) {

    case SD_OK:
        return "OK.";

    case SD_ERR_NOSPACE:
        return "The value is too long to process.";

    case SD_ERR_INVALID_ARG:
        return "A required value is missing.";

    case SD_ERR_DOMAIN_EMPTY:
        return "Enter a domain such as acme.com.";

    case SD_ERR_DOMAIN_WHITESPACE:
        return "A domain name cannot contain spaces; enter a domain such as "
               "acme.com.";

    case SD_ERR_DOMAIN_IS_EMAIL:
        return "That looks like an email address; choose 'Single email "
               "address' to verify one address, or enter only the domain "
               "part.";

    case SD_ERR_DOMAIN_IS_URL:
        return "Enter only the domain name, such as acme.com, without "
               "https://, a port or a path.";

    case SD_ERR_DOMAIN_IS_IP:
        return "Enter a domain name such as acme.com, not an IP address.";

    case SD_ERR_DOMAIN_NON_ASCII:
        return "Enter an internationalised domain name in its ASCII "
               "(punycode) form, which starts with xn--, for example "
               "xn--caf-dma.com for café.com.";

    case SD_ERR_DOMAIN_WILDCARD:
        return "Wildcards are not needed: enter the domain itself, such as "
               "acme.com; verifying it covers all of its subdomains.";

    case SD_ERR_DOMAIN_CHAR:
        return "A domain name can contain only letters, digits, hyphens "
               "and dots.";

    case SD_ERR_DOMAIN_EMPTY_LABEL:
        return "A domain name cannot start with a dot or contain two dots "
               "in a row.";

    case SD_ERR_DOMAIN_LABEL_LONG:
        return "Each part of a domain name between dots must be 63 "
               "characters or fewer.";

    case SD_ERR_DOMAIN_HYPHEN:
        return "A part of a domain name between dots cannot start or end "
               "with a hyphen.";

    case SD_ERR_DOMAIN_TOO_LONG:
        return "A domain name must be 253 characters or fewer.";

    case SD_ERR_DOMAIN_ONE_LABEL:
        return "Enter a full domain including its ending, such as "
               "acme.com rather than acme.";

    case SD_ERR_DOMAIN_NUMERIC_TLD:
        return "The ending of a domain name (such as .com) cannot be only "
               "digits.";

    case SD_ERR_EMAIL_EMPTY:
        return "Enter an email address such as reports@acme.com.";

    case SD_ERR_EMAIL_NO_AT:
        return "Enter a full email address such as reports@acme.com; to "
               "verify a whole domain, choose 'Domain' instead.";

    case SD_ERR_EMAIL_NAME_ADDR:
        return "Enter only the address, such as reports@acme.com, without a "
               "name or angle brackets; set the sender name separately.";

    case SD_ERR_EMAIL_WHITESPACE:
        return "An email address cannot contain spaces.";

    case SD_ERR_EMAIL_QUOTED:
        return "Addresses with quotation marks (such as \"john doe\"@acme.com)"
               " are not supported; use a plain address such as "
               "john.doe@acme.com.";

    case SD_ERR_EMAIL_MULTI_AT:
        return "An email address can contain only one @.";

    case SD_ERR_EMAIL_LOCAL_EMPTY:
        return "Enter the part before the @, as in reports@acme.com.";

    case SD_ERR_EMAIL_LOCAL_LONG:
        return "The part of an email address before the @ must be 64 "
               "characters or fewer.";

    case SD_ERR_EMAIL_LOCAL_DOT:
        return "The part of an email address before the @ cannot start or "
               "end with a dot or contain two dots in a row.";

    case SD_ERR_EMAIL_LOCAL_CHAR:
        return "The part of an email address before the @ can contain only "
               "letters, digits, dots and the characters "
               "! # $ % & ' * + - / = ? ^ _ ` { | } ~.";

    case SD_ERR_EMAIL_NON_ASCII:
        return "Email addresses with non-ASCII characters before the @ are "
               "not supported by Amazon SES; use an address made of ASCII "
               "letters and digits.";

    case SD_ERR_EMAIL_NO_DOMAIN:
        return "Enter the domain after the @, as in reports@acme.com.";

    case SD_ERR_EMAIL_LITERAL:
        return "Addresses at an IP address (user@[192.0.2.1]) are not "
               "supported; use an address at a domain name.";

    case SD_ERR_EMAIL_TOO_LONG:
        return "An email address must be 254 characters or fewer.";

    case SD_ERR_EMAIL_ENCODED_WORD:
        return "The part of an email address before the @ cannot contain "
               "\"=?\": mail programs would read it as encoded text and "
               "show another address.";

    case SD_ERR_LABEL_EMPTY:
        return "Enter a subdomain label such as pmail.";

    case SD_ERR_LABEL_DOT:
        return "Enter one label such as pmail, not a full domain; it is "
               "placed in front of your domain automatically.";

    case SD_ERR_LABEL_CHAR:
        return "A subdomain label can contain only letters, digits and "
               "hyphens.";

    case SD_ERR_LABEL_NON_ASCII:
        return "A subdomain label can contain only ASCII letters, digits "
               "and hyphens; use the punycode form (xn--...) for other "
               "characters.";

    case SD_ERR_LABEL_LONG:
        return "A subdomain label must be 63 characters or fewer.";

    case SD_ERR_LABEL_HYPHEN:
        return "A subdomain label cannot start or end with a hyphen.";

    case SD_ERR_LABEL_MAIL_FROM_LONG:
        return "The MAIL FROM domain (the label, a dot and your domain) "
               "must be 253 characters or fewer; choose a shorter label.";

    case SD_ERR_NAME_TOO_LONG:
        return "The sender name must be 100 characters or fewer.";

    case SD_ERR_NAME_UTF8:
        return "The sender name is not valid UTF-8 text.";

    case SD_ERR_NAME_CONTROL:
        return "The sender name cannot contain line breaks, tabs or other "
               "control characters.";

    case SD_ERR_NAME_LINE_SEP:
        return "The sender name cannot contain line or paragraph "
               "separators.";

    case SD_ERR_NAME_BIDI:
        return "The sender name cannot contain invisible text-direction "
               "control characters.";

    case SD_ERR_NAME_FORMAT:
        return "The sender name cannot contain invisible formatting "
               "characters such as zero-width spaces or soft hyphens.";

    case SD_ERR_NAME_LINE_LONG:
        return "The sender name is too long for a From header line (998 "
               "characters at most); choose a shorter name.";

    case SD_ERR_FROM_EMPTY:
        return "Enter a From address such as reports@acme.com.";

    case SD_ERR_FROM_CONTROL:
        return "The From address cannot contain line breaks, tabs or other "
               "control characters.";

    case SD_ERR_FROM_UTF8:
        return "The From address is not valid UTF-8 text.";

    case SD_ERR_FROM_MULTIPLE:
        return "Enter only one From address.";

    case SD_ERR_FROM_GROUP:
        return "Address groups are not supported; enter one address such "
               "as reports@acme.com.";

    case SD_ERR_FROM_COMMENT:
        return "Comments in parentheses are not supported in a From "
               "address; use Name <address> instead.";

    case SD_ERR_FROM_QUOTE:
        return "The From address has a quotation mark that is not closed.";

    case SD_ERR_FROM_SYNTAX:
        return "Enter a From address as reports@acme.com or "
               "Name <reports@acme.com>; put a name containing special "
               "characters in double quotes.";

    case SD_ERR_FROM_NO_ADDR:
        return "The From address has no address between < and >.";

    case SD_ERR_FROM_BAD_ADDR:
        return "The From address is not a valid email address.";

    case SD_ERR_FROM_ENCODED_WORD:
        return "The From address cannot contain \"=?\" before the @: mail "
               "programs would read it as encoded text.";

    case SD_ERR_FROM_LINE_LONG:
        return "The From header would be longer than 998 characters.";

    case SD_ERR_DOMAIN_IDN:
        return "This is not a valid internationalised domain name: a part "
               "starting with xn-- must be valid punycode, and other "
               "characters must be allowed in domain names (IDNA2008). "
               "Check the spelling, or enter the name as your registrar "
               "shows it.";
    }

    return "The value is not valid.";
}


ssize_t
sd_domain_normalize(const char *in, size_t len, char *out, size_t outsz,
    const char **errmsg)
{
    size_t                i;
    ssize_t               n;
    const unsigned char  *p;
    unsigned char         idn[SD_IDN_IN_MAX];

    if (in == NULL && len != 0) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    p = (const unsigned char *) in;
    sd_trim(&p, &len);

    n = sd_domain_precheck(p, len);

    /* a U-label name: its A-label form from here on */
    if (n == SD_ERR_DOMAIN_NON_ASCII) {
        n = sd_domain_idn(&p, &len, idn, sizeof(idn));

        if (n == SD_OK) {
            n = sd_domain_precheck(p, len);
        }
    }

    if (n < 0) {
        return sd_fail(n, errmsg);
    }

    n = sd_domain_check(p, len, SD_CTX_DOMAIN);
    if (n < 0) {
        return sd_fail(n, errmsg);
    }

    /* well-formed ASCII: its xn-- labels must be valid punycode */
    if (sd_domain_ace_check(p, n) != SD_OK) {
        return sd_fail(SD_ERR_DOMAIN_IDN, errmsg);
    }

    if (out == NULL || (size_t) n >= outsz) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    for (i = 0; i < (size_t) n; i++) {
        out[i] = (char) sd_lower(p[i]);
    }

    out[n] = '\0';

    return n;
}


ssize_t
sd_email_normalize(const char *in, size_t len, char *out, size_t outsz,
    const char **errmsg)
{
    int                   angle, space;
    size_t                i, llen, dlen;
    ssize_t               n;
    unsigned int          bad;
    unsigned char         c;
    const unsigned char  *p, *at, *local, *dom;
    unsigned char         idn[SD_IDN_IN_MAX];

    if (in == NULL && len != 0) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    p = (const unsigned char *) in;
    sd_trim(&p, &len);

    if (len == 0) {
        return sd_fail(SD_ERR_EMAIL_EMPTY, errmsg);
    }

    /*
     * Common mistakes first, so that the message names the mistake rather
     * than the first odd character: a pasted "Name <addr>", a quoted
     * local part, an address with a space in it.  The last '@' separates
     * the domain; only a quoted local part may hold another one, and
     * those are refused below.  (Scans, not one loop with a switch: this
     * runs for every address resolved at send time; a space, tab, CR or
     * LF is looked for byte by byte only when there is a space or a byte
     * that is not printable ASCII.)
     */

    angle = (memchr(p, '<', len) != NULL || memchr(p, '>', len) != NULL);

    for (at = p + len; at > p && at[-1] != '@'; at--) {
        /* void */
    }

    at = (at > p) ? at - 1 : NULL;

    space = 0;

    if (!sd_ascii_printable(p, len) || memchr(p, ' ', len) != NULL) {
        for (i = 0; i < len; i++) {
            space |= sd_is_space(p[i]);
        }
    }

    if (angle) {
        return sd_fail(SD_ERR_EMAIL_NAME_ADDR, errmsg);
    }

    if (p[0] == '"') {
        return sd_fail(SD_ERR_EMAIL_QUOTED, errmsg);
    }

    if (space) {
        return sd_fail(SD_ERR_EMAIL_WHITESPACE, errmsg);
    }

    if (at == NULL) {
        return sd_fail(SD_ERR_EMAIL_NO_AT, errmsg);
    }

    local = p;
    llen = at - p;
    dom = at + 1;
    dlen = len - llen - 1;

    if (llen == 0) {
        return sd_fail(SD_ERR_EMAIL_LOCAL_EMPTY, errmsg);
    }

    /* the local part: one pass, then its checks in their order */

    bad = 0;

    for (i = 0; i < llen; i++) {
        c = local[i];

        if (c == '@') {
            bad |= SD_LOCAL_AT;

        } else if (c >= 0x80) {
            bad |= SD_LOCAL_NON_ASCII;

        } else if (c == '"') {
            bad |= SD_LOCAL_QUOTE;

        } else if (c == '.') {
            if (i > 0 && local[i - 1] == '.') {
                bad |= SD_LOCAL_DOTS;
            }

        } else if (!sd_is_atext(c)) {
            bad |= SD_LOCAL_OTHER;
        }
    }

    if (bad & SD_LOCAL_AT) {
        return sd_fail(SD_ERR_EMAIL_MULTI_AT, errmsg);
    }

    if (bad & SD_LOCAL_NON_ASCII) {
        return sd_fail(SD_ERR_EMAIL_NON_ASCII, errmsg);
    }

    if (bad & SD_LOCAL_QUOTE) {
        return sd_fail(SD_ERR_EMAIL_QUOTED, errmsg);
    }

    if (bad & SD_LOCAL_OTHER) {
        return sd_fail(SD_ERR_EMAIL_LOCAL_CHAR, errmsg);
    }

    if (local[0] == '.' || local[llen - 1] == '.' || (bad & SD_LOCAL_DOTS)) {
        return sd_fail(SD_ERR_EMAIL_LOCAL_DOT, errmsg);
    }

    if (llen > SD_LOCAL_MAX) {
        return sd_fail(SD_ERR_EMAIL_LOCAL_LONG, errmsg);
    }

    if (dlen == 0) {
        return sd_fail(SD_ERR_EMAIL_NO_DOMAIN, errmsg);
    }

    if (dom[0] == '[') {
        return sd_fail(SD_ERR_EMAIL_LITERAL, errmsg);
    }

    n = sd_domain_idn(&dom, &dlen, idn, sizeof(idn));
    if (n < 0) {
        return sd_fail(n, errmsg);
    }

    n = sd_domain_check(dom, dlen, SD_CTX_EMAIL);
    if (n < 0) {
        return sd_fail(n, errmsg);
    }

    if (sd_domain_ace_check(dom, n) != SD_OK) {
        return sd_fail(SD_ERR_DOMAIN_IDN, errmsg);
    }

    /* n may be dlen - 1: the domain's trailing dot is dropped */

    if (llen + 1 + (size_t) n > SD_EMAIL_MAX) {
        return sd_fail(SD_ERR_EMAIL_TOO_LONG, errmsg);
    }

    if (out == NULL || llen + 1 + (size_t) n >= outsz) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    /* SES matches the local part case-sensitively: keep it as typed */

    memcpy(out, local, llen);
    out[llen] = '@';

    for (i = 0; i < (size_t) n; i++) {
        out[llen + 1 + i] = (char) sd_lower(dom[i]);
    }

    out[llen + 1 + n] = '\0';

    return llen + 1 + n;
}


/*
 * The MAIL FROM subdomain: one label.  When the identity's domain is
 * given (only its length matters), "label.domain" must also fit 253.
 */

ssize_t
sd_label_validate(const char *in, size_t len, const char *domain,
    size_t domain_len, char *out, size_t outsz, const char **errmsg)
{
    size_t                i;
    const unsigned char  *p;

    (void) domain;

    if (in == NULL && len != 0) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    p = (const unsigned char *) in;
    sd_trim(&p, &len);

    if (len == 0) {
        return sd_fail(SD_ERR_LABEL_EMPTY, errmsg);
    }

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            return sd_fail(SD_ERR_LABEL_NON_ASCII, errmsg);
        }
    }

    if (memchr(p, '.', len) != NULL) {
        return sd_fail(SD_ERR_LABEL_DOT, errmsg);
    }

    for (i = 0; i < len; i++) {
        if (!sd_is_alnum(p[i]) && p[i] != '-') {
            return sd_fail(SD_ERR_LABEL_CHAR, errmsg);
        }
    }

    if (len > SD_LABEL_MAX) {
        return sd_fail(SD_ERR_LABEL_LONG, errmsg);
    }

    if (p[0] == '-' || p[len - 1] == '-') {
        return sd_fail(SD_ERR_LABEL_HYPHEN, errmsg);
    }

    if (domain_len != 0 && len + 1 + domain_len > SD_DOMAIN_MAX) {
        return sd_fail(SD_ERR_LABEL_MAIL_FROM_LONG, errmsg);
    }

    /* an xn-- label must be valid punycode, as in a domain */
    if (sd_domain_ace_check(p, len) != SD_OK) {
        return sd_fail(SD_ERR_DOMAIN_IDN, errmsg);
    }

    if (out == NULL || len >= outsz) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    for (i = 0; i < len; i++) {
        out[i] = (char) sd_lower(p[i]);
    }

    out[len] = '\0';

    return len;
}


ssize_t
sd_mail_from_domain(const char *label, size_t label_len, const char *domain,
    size_t domain_len, char *out, size_t outsz, const char **errmsg)
{
    size_t   i;
    ssize_t  n;

    if (domain == NULL || domain_len == 0) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    if (out == NULL || outsz == 0) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    n = sd_label_validate(label, label_len, domain, domain_len, out, outsz,
                          errmsg);
    if (n < 0) {
        return n;
    }

    if ((size_t) n + 1 + domain_len >= outsz) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    out[n] = '.';

    for (i = 0; i < domain_len; i++) {
        out[n + 1 + i] = (char) sd_lower((unsigned char) domain[i]);
    }

    out[n + 1 + domain_len] = '\0';

    return n + 1 + domain_len;
}


/*
 * Outer ASCII spaces are trimmed (a form field pasted with a trailing
 * blank should not store "Acme " and later need quoting); nothing else
 * is changed: the name is stored as typed.  Tabs and every other control
 * are refused rather than trimmed, so no header-breaking byte is ever
 * silently accepted.
 */

ssize_t
sd_sender_name_validate(const char *in, size_t len, char *out, size_t outsz,
    const char **errmsg)
{
    ssize_t               rc;
    const unsigned char  *p, *end;

    if (in == NULL && len != 0) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    /*
     * An absent "sender_name" reaches here as (NULL, 0) from the API;
     * "NULL + 0" would be undefined behaviour (UBSan: "applying zero
     * offset to null pointer"; found by t/fuzz/fuzz_api_body).
     */
    p = (const unsigned char *) (in != NULL ? in : "");
    end = p + len;

    while (p < end && p[0] == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    rc = sd_sender_name_check((const char *) p, end - p);
    if (rc != SD_OK) {
        return sd_fail(rc, errmsg);
    }

    len = end - p;

    if (out == NULL || len >= outsz) {
        return sd_fail(SD_ERR_NOSPACE, errmsg);
    }

    if (len != 0) {
        memcpy(out, p, len);
    }

    out[len] = '\0';

    return len;
}


ssize_t
sd_sender_name_check(const char *in, size_t len)
{
    int                   n, err;
    size_t                chars;
    uint32_t              cp;
    const unsigned char  *p, *end, *q;

    if (in == NULL) {
        return len ? SD_ERR_INVALID_ARG : SD_OK;
    }

    p = (const unsigned char *) in;
    end = p + len;
    chars = 0;

    for (q = p; q < end; q += n) {
        n = sd_utf8_decode(q, end, &cp);
        if (n < 0) {
            return SD_ERR_NAME_UTF8;
        }

        err = sd_name_char_refused(cp);
        if (err != 0) {
            return err;
        }

        chars++;
    }

    if (chars > SD_SENDER_NAME_MAX_CHARS) {
        return SD_ERR_NAME_TOO_LONG;
    }

    return SD_OK;
}


/*
 * Controls (C0, DEL, C1) and the line and paragraph separators would
 * break or fold a header line.  Embeddings, overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069) and the direction marks (U+200E,
 * U+200F, U+061C) can make a display name read differently from its
 * bytes ("Trojan Source"); ordinary right-to-left text does not need
 * them.  The other format characters (Unicode category Cf, 14.0: soft
 * hyphen, zero-width space, word joiner, invisible operators, BOM, tags,
 * ...) are invisible and only hide text from readers and filters; only
 * ZERO WIDTH NON-JOINER and JOINER (U+200C, U+200D) stay: Persian and
 * Indic names and emoji sequences need them.
 */

int
sd_name_char_refused(uint32_t cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
        return SD_ERR_NAME_CONTROL;
    }

    if (cp < 0xad) {
        return 0;                       /* the rest of Latin-1 */
    }

    if (cp == 0x2028 || cp == 0x2029) {
        return SD_ERR_NAME_LINE_SEP;
    }

    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
        || cp == 0x200e || cp == 0x200f || cp == 0x061c)
    {
        return SD_ERR_NAME_BIDI;
    }

    if (cp == 0x00ad
        || (cp >= 0x0600 && cp <= 0x0605) || cp == 0x06dd || cp == 0x070f
        || cp == 0x0890 || cp == 0x0891 || cp == 0x08e2 || cp == 0x180e
        || cp == 0x200b
        || (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x206a && cp <= 0x206f)
        || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb)
        || cp == 0x110bd || cp == 0x110cd
        || (cp >= 0x13430 && cp <= 0x13438)
        || (cp >= 0x1bca0 && cp <= 0x1bca3)
        || (cp >= 0x1d173 && cp <= 0x1d17a)
        || cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f))
    {
        return SD_ERR_NAME_FORMAT;
    }

    return 0;
}


/*
 * RFC 2047 5 allows encoded-words only in phrases, comments and text,
 * never in an address; yet Python's email package (policy.default)
 * decodes "=?utf-8?q?ceo=40bank.example?=@acme.com" to the address
 * "\"ceo@bank.example\"@acme.com".  A local part cannot be encoded
 * itself, so an address holding "=?" before the '@' is refused.
 */

ssize_t
sd_email_header_check(const char *addr, size_t len, const char **errmsg)
{
    const char  *q, *end;

    if (addr == NULL) {
        return sd_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    end = addr + len;

    for (q = addr; q + 1 < end && *q != '@'; q++) {
        if (q[0] == '=' && q[1] == '?') {
            return sd_fail(SD_ERR_EMAIL_ENCODED_WORD, errmsg);
        }
    }

    return SD_OK;
}


sd_kind_e
sd_identity_kind(const char *name, size_t len)
{
    if (name == NULL || len == 0) {
        return SD_KIND_INVALID;
    }

    return memchr(name, '@', len) ? SD_KIND_EMAIL : SD_KIND_DOMAIN;
}


const char *
sd_identity_domain_part(const char *name, size_t len, size_t *domain_len)
{
    size_t  i;

    for (i = len; i > 0; i--) {
        if (name[i - 1] == '@') {
            *domain_len = len - i;
            return &name[i];
        }
    }

    *domain_len = len;

    return name;
}


/*
 * Label-boundary aware: "mail.acme.com" is within "acme.com", and so is
 * "acme.com" itself, but "bacme.com" is not.
 */

int
sd_domain_is_within(const char *child, size_t child_len, const char *parent,
    size_t parent_len)
{
    if (child == NULL || parent == NULL || parent_len == 0
        || child_len < parent_len)
    {
        return 0;
    }

    if (child_len == parent_len) {
        return sd_caseeq(child, parent, parent_len);
    }

    return child[child_len - parent_len - 1] == '.'
           && sd_caseeq(child + child_len - parent_len, parent, parent_len);
}


/*
 * SES lets a verified domain send as every address and subdomain under
 * it, so two claims conflict when one's tree contains the other: a
 * domain covers its subdomains and the addresses on any of them; an
 * address covers only itself.  Everything compares case-insensitively,
 * local parts included: "Reports@Acme.com" and "reports@acme.com" are one
 * claim, so no workspace can take another's address by changing its case.
 */

int
sd_identities_conflict(const char *a, size_t a_len, const char *b,
    size_t b_len)
{
    size_t      ad_len, bd_len;
    sd_kind_e   ak, bk;
    const char *ad, *bd;

    ak = sd_identity_kind(a, a_len);
    bk = sd_identity_kind(b, b_len);

    if (ak == SD_KIND_INVALID || bk == SD_KIND_INVALID) {
        return 0;
    }

    if (ak == SD_KIND_EMAIL && bk == SD_KIND_EMAIL) {
        return a_len == b_len && sd_caseeq(a, b, a_len);
    }

    ad = sd_identity_domain_part(a, a_len, &ad_len);
    bd = sd_identity_domain_part(b, b_len, &bd_len);

    if (ak == SD_KIND_DOMAIN && bk == SD_KIND_DOMAIN) {
        return sd_domain_is_within(ad, ad_len, bd, bd_len)
               || sd_domain_is_within(bd, bd_len, ad, ad_len);
    }

    if (ak == SD_KIND_DOMAIN) {
        return sd_domain_is_within(bd, bd_len, ad, ad_len);
    }

    return sd_domain_is_within(ad, ad_len, bd, bd_len);
}


/*
 * The ownership-tree key of a normalised identity, all lower-case:
 *
 *     domain   "mail.acme.com"     -> "com.acme.mail."
 *     address  "Reports@acme.com"  -> "com.acme.@reports"
 *
 * i.e. the labels of the domain (part) in reverse order, each followed
 * by '.', then for an address '@' and the local part.  Labels never hold
 * '.' or '@' and every label is terminated by '.', so key(D) is a prefix
 * of key(N) exactly when N is D, a subdomain of D, or an address on
 * either: a prefix match can only end on a label boundary ("com.acme."
 * is not a prefix of "com.acmeb.").  Hence in a byte-sorted store:
 *
 *   - everything under D is the contiguous range of keys starting with
 *     key(D) (all strings sharing a prefix sort together);
 *   - the domains that N is in (its own domain and every parent) have
 *     as keys the prefixes of key(N) that end in a '.' before the '@'
 *     (a local part may hold dots too), which can be looked up exactly.
 *
 * Returns the key length (at most SD_TREE_KEY_MAX for valid names).
 */

ssize_t
sd_tree_key(const char *name, size_t len, char *out, size_t outsz)
{
    size_t      i, n, dlen, end, start;
    const char *dom;

    if (name == NULL || len == 0) {
        return SD_ERR_INVALID_ARG;
    }

    dom = sd_identity_domain_part(name, len, &dlen);

    if (dlen == 0) {
        return SD_ERR_INVALID_ARG;
    }

    /* the domain, plus '.', plus for an address '@' and the local part */

    n = dlen + 1 + (len - dlen);

    if (out == NULL || n >= outsz) {
        return SD_ERR_NOSPACE;
    }

    n = 0;
    end = dlen;

    while (end > 0) {
        start = end;

        while (start > 0 && dom[start - 1] != '.') {
            start--;
        }

        if (start == end) {
            return SD_ERR_INVALID_ARG;      /* empty label */
        }

        for (i = start; i < end; i++) {
            out[n++] = (char) sd_lower((unsigned char) dom[i]);
        }

        out[n++] = '.';

        if (start == 0) {
            break;
        }

        end = start - 1;

        if (end == 0) {
            return SD_ERR_INVALID_ARG;      /* leading dot */
        }
    }

    if (dom != name) {
        out[n++] = '@';

        for (i = 0; i < len - dlen - 1; i++) {
            out[n++] = (char) sd_lower((unsigned char) name[i]);
        }
    }

    out[n] = '\0';

    return n;
}


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
 * above U+10FFFF, no truncated sequences.
 */

int
sd_utf8_decode(const unsigned char *p, const unsigned char *end,
    uint32_t *cp)
{
    int            n, i;
    uint32_t       c;
    unsigned char  lo, hi;

    if (p >= end) {
        return -1;
    }

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        *cp = c;
        return 1;

    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;     /* overlong */
        hi = (c == 0xed) ? 0x9f : 0xbf;     /* surrogates */
        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;     /* overlong */
        hi = (c == 0xf4) ? 0x8f : 0xbf;     /* above U+10FFFF */
        c &= 0x07;

    } else {
        return -1;
    }

    if (end - p < n) {
        return -1;
    }

    if (p[1] < lo || p[1] > hi) {
        return -1;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return -1;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    *cp = c;

    return n;
}


/*
 * The word tricks below (Hacker's Delight 6-1; "Bit Twiddling Hacks",
 * "Determine if a word has a byte less than n"): for a 64-bit word v,
 * SD_HAS_LESS(v, n) is non-zero exactly when some byte of v is below n
 * (n <= 128), SD_HAS_BYTE(v, c) exactly when some byte equals c.  Each
 * answers for the whole word, never for one byte, which is all a scan
 * for "is anything there" needs.
 */
#define SD_ONES             0x0101010101010101ULL
#define SD_HIGHS            0x8080808080808080ULL
#define SD_HAS_LESS(v, n)   (((v) - SD_ONES * (n)) & ~(v) & SD_HIGHS)
#define SD_HAS_BYTE(v, c)   SD_HAS_LESS((v) ^ (SD_ONES * (c)), 1)


/*
 * Whether a word holds a byte that is not printable ASCII, or (json) one
 * that a JSON string must escape.
 */

static int
sd_word_odd(uint64_t v, int json)
{
    if (SD_HAS_LESS(v, 0x20)) {
        return 1;
    }

    if (json) {
        return SD_HAS_BYTE(v, '"') || SD_HAS_BYTE(v, '\\');
    }

    return SD_HAS_BYTE(v, 0x7f) || (v & SD_HIGHS) != 0;
}


/*
 * The value read as words: one padded with 'a' (a byte both scans pass)
 * when shorter than 8 bytes, else the last word overlapping the one before
 * it rather than a tail left to test byte by byte.
 */

static int
sd_words_plain(const unsigned char *p, size_t len, int json)
{
    size_t    i;
    uint64_t  v;

    if (len == 0) {
        return 1;
    }

    if (len < 8) {
        v = SD_ONES * 'a';
        memcpy(&v, p, len);

        return !sd_word_odd(v, json);
    }

    for (i = 0; i + 8 < len; i += 8) {
        memcpy(&v, p + i, 8);

        if (sd_word_odd(v, json)) {
            return 0;
        }
    }

    memcpy(&v, p + len - 8, 8);

    return !sd_word_odd(v, json);
}


int
sd_ascii_printable(const unsigned char *p, size_t len)
{
    return sd_words_plain(p, len, 0);
}


int
sd_json_plain(const unsigned char *p, size_t len)
{
    return sd_words_plain(p, len, 1);
}


int
sd_log_plain(const unsigned char *p, size_t len)
{
    return sd_ascii_printable(p, len) && sd_json_plain(p, len);
}


size_t
sd_log_escape(unsigned char *dst, const unsigned char *src, size_t len)
{
    size_t                n;
    unsigned char         c;
    const unsigned char  *end;
    static const char     hex[] = "0123456789abcdef";

    n = 0;

    for (end = src + len; src < end; src++) {
        c = *src;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            if (dst != NULL) {
                dst[n] = c;
            }

            n++;
            continue;
        }

        if (dst != NULL) {
            dst[n] = '\\';
            dst[n + 1] = 'x';
            dst[n + 2] = hex[c >> 4];
            dst[n + 3] = hex[c & 0xf];
        }

        n += 4;
    }

    return n;
}


/*
 * Checks that need the whole string and only make sense for a domain
 * typed on its own: the hints for an email address, a URL, an IP address
 * or a wildcard.
 */

static ssize_t
sd_domain_precheck(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return SD_ERR_DOMAIN_EMPTY;
    }

    if (sd_find(p, len, "://") != NULL) {
        return SD_ERR_DOMAIN_IS_URL;
    }

    if (memchr(p, '@', len) != NULL) {
        return SD_ERR_DOMAIN_IS_EMAIL;
    }

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            return SD_ERR_DOMAIN_NON_ASCII;
        }
    }

    for (i = 0; i < len; i++) {
        if (sd_is_space(p[i])) {
            return SD_ERR_DOMAIN_WHITESPACE;
        }
    }

    if (p[0] == '[' || sd_looks_like_ipv6(p, len)) {
        return SD_ERR_DOMAIN_IS_IP;
    }

    for (i = 0; i < len; i++) {
        if (p[i] == '/' || p[i] == ':' || p[i] == '?' || p[i] == '#') {
            return SD_ERR_DOMAIN_IS_URL;
        }
    }

    if (p[0] == '*') {
        return SD_ERR_DOMAIN_WILDCARD;
    }

    return SD_OK;
}


/*
 * Internationalised names (IDNA2008 with the UTS #46 mapping, libidn2):
 * a name with non-ASCII bytes ("bücher.example", "CAFÉ.example") is
 * replaced by its A-label form ("xn--bcher-kva.example") in buf, and *p,
 * *len point there.  Plain ASCII names cost one scan and are left to
 * sd_domain_ace_check().  SD_OK, or SD_ERR_DOMAIN_IDN.
 */

static ssize_t
sd_domain_idn(const unsigned char **p, size_t *len, unsigned char *buf,
    size_t bufsz)
{
    int            rc;
    size_t         i, n;
    unsigned char  in[SD_IDN_IN_MAX + 1];
    char          *out;

    n = *len;

    for (i = 0; i < n && (*p)[i] < 0x80; i++) {
        /* void */
    }

    if (i == n) {
        return SD_OK;           /* xn-- labels: sd_domain_ace_check() */
    }

    /* the root dot is not libidn2's to see */
    if (n && (*p)[n - 1] == '.') {
        n--;
    }

    if (n == 0 || n > SD_IDN_IN_MAX || memchr(*p, '\0', n) != NULL) {
        return SD_ERR_DOMAIN_IDN;
    }

    memcpy(in, *p, n);
    in[n] = '\0';
    out = NULL;

    rc = idn2_lookup_u8(in, (uint8_t **) &out,
                        IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);

    if (rc != IDN2_OK || out == NULL) {
        free(out);
        return SD_ERR_DOMAIN_IDN;
    }

    n = strlen(out);

    if (n >= bufsz) {
        free(out);
        return SD_ERR_DOMAIN_IDN;
    }

    memcpy(buf, out, n + 1);
    free(out);

    *p = buf;
    *len = n;

    return SD_OK;
}


/*
 * A well-formed ASCII name (len without the root dot): each label that
 * starts with "xn--" must be one libidn2 accepts (valid punycode of a
 * U-label IDNA2008 allows), else SD_ERR_DOMAIN_IDN: "xn--zz.example" is
 * not sent to SES.  One scan when there is no such label.
 */

static ssize_t
sd_domain_ace_check(const unsigned char *p, size_t len)
{
    int            rc;
    size_t         i, start, n;
    uint8_t       *out;
    unsigned char  label[64];

    for (start = 0; start < len; start = i + 1) {
        for (i = start; i < len && p[i] != '.'; i++) {
            /* void */
        }

        n = i - start;

        if (n < 4 || (p[start] | 0x20) != 'x' || (p[start + 1] | 0x20) != 'n'
            || p[start + 2] != '-' || p[start + 3] != '-')
        {
            continue;
        }

        if (n >= sizeof(label)) {
            return SD_ERR_DOMAIN_IDN;
        }

        for (n = 0; start + n < i; n++) {
            label[n] = (unsigned char) sd_lower(p[start + n]);
        }

        label[n] = '\0';
        out = NULL;

        /* each A-label alone: the rules of other labels are not its own */
        rc = idn2_lookup_u8(label, &out, IDN2_NONTRANSITIONAL);
        free(out);

        if (rc != IDN2_OK) {
            return SD_ERR_DOMAIN_IDN;
        }
    }

    return SD_OK;
}


/*
 * The structural checks shared by domains and the domain part of an
 * address.  p has been trimmed; returns the normalised length (one
 * trailing dot dropped) or an error.
 */

static ssize_t
sd_domain_check(const unsigned char *p, size_t len, sd_ctx_e ctx)
{
    int     other;
    size_t  i, j, start, labels, numeric, all_numeric, llen;

    if (len == 0) {
        return (ctx == SD_CTX_EMAIL) ? SD_ERR_EMAIL_NO_DOMAIN
                                     : SD_ERR_DOMAIN_EMPTY;
    }

    /* one pass; a non-ASCII byte anywhere is the error to name */

    other = 0;

    for (i = 0; i < len; i++) {
        if (p[i] >= 0x80) {
            return SD_ERR_DOMAIN_NON_ASCII;
        }

        other |= !sd_is_alnum(p[i]) && p[i] != '-' && p[i] != '.';
    }

    if (other) {
        return SD_ERR_DOMAIN_CHAR;
    }

    /* the root: "acme.com." is "acme.com", "acme.com.." is an error */

    if (p[len - 1] == '.') {
        len--;
    }

    if (len == 0) {
        return SD_ERR_DOMAIN_EMPTY_LABEL;
    }

    if (len > SD_DOMAIN_MAX) {
        return SD_ERR_DOMAIN_TOO_LONG;
    }

    labels = 0;
    all_numeric = 1;
    numeric = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '.') {
            continue;
        }

        llen = i - start;

        if (llen == 0) {
            return SD_ERR_DOMAIN_EMPTY_LABEL;
        }

        if (llen > SD_LABEL_MAX) {
            return SD_ERR_DOMAIN_LABEL_LONG;
        }

        if (p[start] == '-' || p[i - 1] == '-') {
            return SD_ERR_DOMAIN_HYPHEN;
        }

        numeric = 1;

        for (j = start; j < i; j++) {
            if (p[j] < '0' || p[j] > '9') {
                numeric = 0;
                all_numeric = 0;
                break;
            }
        }

        labels++;
        start = i + 1;
    }

    if (labels < 2) {
        return SD_ERR_DOMAIN_ONE_LABEL;
    }

    /* numeric is now that of the last label, the top-level domain */

    if (numeric) {
        return all_numeric ? SD_ERR_DOMAIN_IS_IP : SD_ERR_DOMAIN_NUMERIC_TLD;
    }

    return len;
}


static ssize_t
sd_fail(ssize_t err, const char **errmsg)
{
    if (errmsg != NULL) {
        *errmsg = sd_strerror((int) err);
    }

    return err;
}


/* surrounding blanks and line ends from a pasted value */

static int
sd_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/*
 * Only ASCII spaces are trimmed: a tab, CR or LF around a name is refused
 * like any control character (an API caller sending "acme.com\r\n" has a
 * bug worth hearing about, and nothing header-breaking is ever accepted).
 */

static void
sd_trim(const unsigned char **p, size_t *len)
{
    const unsigned char  *s, *e;

    s = *p;
    e = s + *len;

    while (s < e && s[0] == ' ') {
        s++;
    }

    while (e > s && e[-1] == ' ') {
        e--;
    }

    *p = s;
    *len = e - s;
}


static unsigned char
sd_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c | 0x20) : c;
}


static int
sd_is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}


/*
 * RFC 5322 3.2.3 atext.  A switch, not strchr() over the set: this runs
 * for every byte of every address resolved at send time.
 */

static int
sd_is_atext(unsigned char c)
{
    if (sd_is_alnum(c)) {
        return 1;
    }

    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'':
    case '*': case '+': case '-': case '/': case '=': case '?':
    case '^': case '_': case '`': case '{': case '|': case '}':
    case '~':
        return 1;
    }

    return 0;
}


static int
sd_caseeq(const char *a, const char *b, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (sd_lower((unsigned char) a[i]) != sd_lower((unsigned char) b[i]))
        {
            return 0;
        }
    }

    return 1;
}


static const unsigned char *
sd_find(const unsigned char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(&p[i], s, n) == 0) {
            return &p[i];
        }
    }

    return NULL;
}


/* "2001:db8::1": hex digits and at least two colons, maybe dots (v4 tail) */

static int
sd_looks_like_ipv6(const unsigned char *p, size_t len)
{
    size_t  i, colons;

    colons = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == ':') {
            colons++;

        } else if (!((p[i] >= '0' && p[i] <= '9')
                     || (p[i] >= 'a' && p[i] <= 'f')
                     || (p[i] >= 'A' && p[i] <= 'F')
                     || p[i] == '.'))
        {
            return 0;
        }
    }

    return colons >= 2;
}
