/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */

/*
 * Custom Sender Domains for nginx: From header values (pure core).
 *
 * Parsing is deliberately narrower than RFC 5322: one mailbox, either a
 * bare addr-spec or an optional display name and an angle address.
 * Groups, comments, route addresses and several mailboxes are refused,
 * and so is every control character (CR and LF first of all), so that
 * nothing a caller passes can smuggle in another header.
 */


#include <string.h>

#include "sd_from.h"


/*
 * The longest RFC 2047 encoded-word is 75 characters (RFC 2047 2).
 * "=?UTF-8?B?" and "?=" take 12, leaving 63 for base64, i.e. 60 (a
 * multiple of 4), i.e. 45 bytes of UTF-8 per word.
 */
#define SD_EW_PREFIX      "=?UTF-8?B?"
#define SD_EW_SUFFIX      "?="
#define SD_EW_MAX_BYTES   45


#define SD_NAME_PLAIN     0
#define SD_NAME_QUOTED    1
#define SD_NAME_ENCODED   2


typedef struct {
    char    *pos;
    char    *end;           /* one before the buffer's end: room for NUL */
    int      overflow;
} sd_wbuf_t;


/*
 * ASCII characters that an address may not hold (SD_SPECIAL_IN_ADDR) and
 * that make a display name quoted (SD_SPECIAL_IN_NAME).  Tables, not
 * strchr() over a set: these are looked up for every byte of every From
 * resolved at send time.
 */
#define SD_SPECIAL_IN_ADDR  0x01
#define SD_SPECIAL_IN_NAME  0x02

static const unsigned char  sd_from_specials[128] = {
    [' ']  = SD_SPECIAL_IN_ADDR,
    ['"']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    ['(']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    [')']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    [',']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    [':']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    [';']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    ['<']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    ['>']  = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    ['\\'] = SD_SPECIAL_IN_ADDR | SD_SPECIAL_IN_NAME,
    ['\0'] = SD_SPECIAL_IN_NAME,       /* as strchr() over the set had it */
    ['.']  = SD_SPECIAL_IN_NAME,
    ['@']  = SD_SPECIAL_IN_NAME,
    ['[']  = SD_SPECIAL_IN_NAME,
    [']']  = SD_SPECIAL_IN_NAME,
};


static ssize_t sd_from_check_bytes(const unsigned char *p, size_t len,
    int *ascii);
static ssize_t sd_from_check_name(const char *name, size_t namesz,
    size_t nlen);
static ssize_t sd_from_phrase(const unsigned char *p, size_t len,
    char *name, size_t namesz, size_t *name_len);
static void sd_name_put(char *name, size_t namesz, size_t *n,
    unsigned char c);
static ssize_t sd_from_angle(const unsigned char *p, size_t len,
    const char **addr, size_t *addr_len);
static ssize_t sd_from_bare(const unsigned char *p, size_t len);
static int sd_from_addr_ok(const unsigned char *p, size_t len);
static ssize_t sd_from_name_check(const unsigned char *p, size_t len,
    int *ascii);
static int sd_from_name_style(const unsigned char *p, size_t len);
static void sd_put(sd_wbuf_t *b, const void *p, size_t len);
static void sd_put_quoted(sd_wbuf_t *b, const unsigned char *p, size_t len);
static void sd_put_encoded(sd_wbuf_t *b, const unsigned char *p,
    size_t len);
static void sd_put_base64(sd_wbuf_t *b, const unsigned char *p, size_t len);
static ssize_t sd_from_fail(ssize_t err, const char **errmsg);


/*
 * Splits a From value into its display name (unquoted, copied into
 * "name" when it is not NULL) and its address (a span of the input, not
 * yet validated: pass it to sd_email_normalize()).  Accepted:
 *
 *     reports@acme.com
 *     <reports@acme.com>
 *     Acme Reports <reports@acme.com>
 *     "Acme, Inc. \"Reports\"" <reports@acme.com>
 *
 * Outside quotes, runs of spaces in the name become one space; RFC 2047
 * encoded-words are not decoded (send the name as UTF-8).
 */

ssize_t
sd_from_parse(const char *in, size_t len, char *name, size_t namesz,
    size_t *name_len, const char **addr, size_t *addr_len,
    const char **errmsg)
{
    int                   quoted, ascii;
    size_t                i, nlen;
    ssize_t               rc;
    const unsigned char  *p, *lt;

    if ((in == NULL && len != 0) || addr == NULL || addr_len == NULL) {
        return sd_from_fail(SD_ERR_INVALID_ARG, errmsg);
    }

    p = (const unsigned char *) in;

    rc = sd_from_check_bytes(p, len, &ascii);
    if (rc != SD_OK) {
        return sd_from_fail(rc, errmsg);
    }

    while (len > 0 && p[0] == ' ') {
        p++;
        len--;
    }

    while (len > 0 && p[len - 1] == ' ') {
        len--;
    }

    if (len == 0) {
        return sd_from_fail(SD_ERR_FROM_EMPTY, errmsg);
    }

    /* the first '<' outside a quoted string starts the angle address */

    lt = NULL;
    quoted = 0;

    if (memchr(p, '"', len) == NULL) {
        lt = memchr(p, '<', len);       /* no quotes: the usual value */
        i = len;

    } else {
        i = 0;
    }

    for ( /* void */ ; i < len; i++) {
        if (quoted && p[i] == '\\') {
            i++;
            continue;
        }

        if (p[i] == '"') {
            quoted = !quoted;

        } else if (!quoted && p[i] == '<') {
            lt = &p[i];
            break;
        }
    }

    if (lt == NULL && quoted) {
        return sd_from_fail(SD_ERR_FROM_QUOTE, errmsg);
    }

    nlen = 0;

    if (lt == NULL) {
        rc = sd_from_bare(p, len);
        if (rc != SD_OK) {
            return sd_from_fail(rc, errmsg);
        }

        *addr = (const char *) p;
        *addr_len = len;

    } else {
        rc = sd_from_phrase(p, lt - p, name, namesz, &nlen);
        if (rc != SD_OK) {
            return sd_from_fail(rc, errmsg);
        }

        rc = sd_from_angle(lt, len - (lt - p), addr, addr_len);
        if (rc != SD_OK) {
            return sd_from_fail(rc, errmsg);
        }
    }

    /*
     * The display name gets the rules of a stored sender name.  A name
     * of at most 100 printable ASCII characters, the usual one, passes
     * them all (see sd_from_name_fits() for the line length), so only a
     * longer or non-ASCII one is looked at.
     */

    if (nlen > 0 && name != NULL
        && (!ascii || nlen > SD_SENDER_NAME_MAX_CHARS))
    {
        rc = sd_from_check_name(name, namesz, nlen);
        if (rc != SD_OK) {
            return sd_from_fail(rc, errmsg);
        }
    }

    if (name != NULL) {
        if (nlen >= namesz) {
            return sd_from_fail(SD_ERR_NOSPACE, errmsg);
        }

        name[nlen] = '\0';
    }

    if (name_len != NULL) {
        *name_len = nlen;
    }

    return SD_OK;
}


/*
 * Builds "Name <addr>", or the bare address when there is no name.
 * A name of atoms stays as is; one with RFC 5322 specials is quoted;
 * one with non-ASCII characters becomes RFC 2047 "B" encoded-words.
 * The name is checked again here (controls, UTF-8) so that a bad stored
 * value can never reach a header.  Never truncates: a short buffer is
 * SD_ERR_NOSPACE.
 */

ssize_t
sd_from_format(const char *name, size_t name_len, const char *addr,
    size_t addr_len, char *out, size_t outsz)
{
    int                   ascii, style;
    ssize_t               rc;
    sd_wbuf_t             b;
    const unsigned char  *n;

    if ((name == NULL && name_len != 0) || addr == NULL) {
        return SD_ERR_INVALID_ARG;
    }

    if (!sd_from_addr_ok((const unsigned char *) addr, addr_len)) {
        return SD_ERR_FROM_BAD_ADDR;
    }

    n = (const unsigned char *) name;

    rc = sd_from_name_check(n, name_len, &ascii);
    if (rc != SD_OK) {
        return rc;
    }

    if (out == NULL || outsz == 0) {
        return SD_ERR_NOSPACE;
    }

    b.pos = out;
    b.end = out + outsz - 1;
    b.overflow = 0;

    if (name_len == 0) {
        sd_put(&b, addr, addr_len);

    } else {
        style = ascii ? sd_from_name_style(n, name_len) : SD_NAME_ENCODED;

        if (style == SD_NAME_ENCODED) {
            sd_put_encoded(&b, n, name_len);

        } else if (style == SD_NAME_QUOTED) {
            sd_put_quoted(&b, n, name_len);

        } else {
            sd_put(&b, n, name_len);
        }

        sd_put(&b, " <", 2);
        sd_put(&b, addr, addr_len);
        sd_put(&b, ">", 1);
    }

    if (b.overflow) {
        return SD_ERR_NOSPACE;
    }

    if ((size_t) (b.pos - out) > SD_FROM_VALUE_MAX) {
        return SD_ERR_FROM_LINE_LONG;
    }

    *b.pos = '\0';

    return b.pos - out;
}


/*
 * With the 100-character limit the widest name is 100 four-byte
 * characters: ten encoded-words (nine of 11 characters, 72 columns, and
 * one of 20), 677 columns with the spaces between them, so the longest
 * line is 6 + 677 + 2 + 254 + 1 = 940.  An ASCII name of 100 characters
 * is at most 202 columns quoted, 218 as encoded-words.  This check keeps
 * the rule true whatever the limits become.
 */

ssize_t
sd_from_name_fits(const char *name, size_t len)
{
    char     out[SD_FROM_BUFSZ];
    ssize_t  n;

    if (len == 0) {
        return SD_OK;
    }

    n = sd_from_format(name, len, "a@b", 3, out, sizeof(out));

    if (n == SD_ERR_NOSPACE || n == SD_ERR_FROM_LINE_LONG) {
        return SD_ERR_NAME_LINE_LONG;
    }

    if (n < 0) {
        return n;
    }

    /* "Name <a@b>": the name's columns are n - 6 */

    if ((sizeof("From: ") - 1) + (size_t) (n - 6) + 2 + SD_EMAIL_MAX + 1
        > SD_FROM_LINE_MAX)
    {
        return SD_ERR_NAME_LINE_LONG;
    }

    return SD_OK;
}


/*
 * A verified domain covers an address when the address's domain is that
 * domain or a subdomain of it: "When you verify a domain identity, you
 * can send email from any subdomain or email address of the verified
 * domain" (Amazon SES Developer Guide, "Creating and verifying identities
 * in Amazon SES",
 * https://docs.aws.amazon.com/ses/latest/dg/creating-identities.html).
 */

int
sd_address_domain_match(const char *addr, size_t addr_len,
    const char *domain, size_t domain_len)
{
    size_t      dlen;
    const char *d;

    if (addr == NULL || sd_identity_kind(addr, addr_len) != SD_KIND_EMAIL) {
        return 0;
    }

    d = sd_identity_domain_part(addr, addr_len, &dlen);

    return sd_domain_is_within(d, dlen, domain, domain_len);
}


/*
 * Every byte: no controls (CR, LF, NUL, TAB, ...), no DEL, valid UTF-8.
 * Controls are looked for first, so that "a\r\n\xff" is about the CR.
 * Printable ASCII, all of a usual From, is passed over without decoding.
 */

static ssize_t
sd_from_check_bytes(const unsigned char *p, size_t len, int *ascii)
{
    int                   n;
    uint32_t              cp;
    const unsigned char  *q, *end;

    *ascii = 1;

    if (sd_ascii_printable(p, len)) {
        return SD_OK;
    }

    *ascii = 0;

    end = p + len;

    for (q = p; q < end; q++) {
        if (*q < 0x20 || *q == 0x7f) {
            return SD_ERR_FROM_CONTROL;
        }
    }

    for (q = p; q < end; q += n) {
        if (*q < 0x80) {
            n = 1;
            continue;
        }

        n = sd_utf8_decode(q, end, &cp);
        if (n < 0) {
            return SD_ERR_FROM_UTF8;
        }

        if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
            return SD_ERR_FROM_CONTROL;
        }
    }

    return SD_OK;
}


/*
 * A display name from a From value: the rules of a stored sender name
 * (sd_sender_name_check()), then the line length.  A name longer than
 * any valid one is refused before it is looked at (it did not fit the
 * caller's buffer).
 */

static ssize_t
sd_from_check_name(const char *name, size_t namesz, size_t nlen)
{
    ssize_t  rc;

    if (nlen > SD_SENDER_NAME_MAX_BYTES) {
        return SD_ERR_NAME_TOO_LONG;
    }

    if (nlen >= namesz) {
        return SD_ERR_NOSPACE;
    }

    rc = sd_sender_name_check(name, nlen);
    if (rc != SD_OK) {
        return rc;
    }

    return sd_from_name_fits(name, nlen);
}


/*
 * The display name before '<': atoms (with '.' as RFC 5322 obs-phrase
 * allows, and UTF-8 as RFC 6532 allows) and quoted strings.
 */

static ssize_t
sd_from_phrase(const unsigned char *p, size_t len, char *name,
    size_t namesz, size_t *name_len)
{
    int            space;
    size_t         i, n;
    unsigned char  c;

    n = 0;
    space = 0;

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == ' ') {
            space = (n > 0);
            continue;
        }

        if (space) {
            sd_name_put(name, namesz, &n, ' ');
            space = 0;
        }

        if (c == '"') {
            for (i++; i < len && p[i] != '"'; i++) {
                if (p[i] == '\\') {
                    if (++i == len) {
                        return SD_ERR_FROM_QUOTE;
                    }
                }

                sd_name_put(name, namesz, &n, p[i]);
            }

            if (i == len) {
                return SD_ERR_FROM_QUOTE;
            }

            continue;
        }

        switch (c) {

        case ',':
            return SD_ERR_FROM_MULTIPLE;

        case ':':
        case ';':
            return SD_ERR_FROM_GROUP;

        case '(':
        case ')':
            return SD_ERR_FROM_COMMENT;

        case '>':
        case '@':
        case '[':
        case ']':
        case '\\':
            return SD_ERR_FROM_SYNTAX;
        }

        sd_name_put(name, namesz, &n, c);
    }

    *name_len = n;

    return SD_OK;
}


/*
 * Counts every byte but stores only what fits with room for the NUL;
 * sd_from_parse() turns a count that did not fit into SD_ERR_NOSPACE.
 */

static void
sd_name_put(char *name, size_t namesz, size_t *n, unsigned char c)
{
    if (name != NULL && *n + 1 < namesz) {
        name[*n] = (char) c;
    }

    (*n)++;
}


/* "<addr>" and what may follow it: only spaces */

static ssize_t
sd_from_angle(const unsigned char *p, size_t len, const char **addr,
    size_t *addr_len)
{
    size_t                i, alen;
    const unsigned char  *gt, *a;

    gt = memchr(p + 1, '>', len - 1);
    if (gt == NULL) {
        return SD_ERR_FROM_SYNTAX;
    }

    for (i = (gt - p) + 1; i < len; i++) {
        if (p[i] == ',') {
            return SD_ERR_FROM_MULTIPLE;
        }

        if (p[i] == '(') {
            return SD_ERR_FROM_COMMENT;
        }

        if (p[i] != ' ') {
            return SD_ERR_FROM_SYNTAX;
        }
    }

    a = p + 1;
    alen = gt - a;

    while (alen > 0 && a[0] == ' ') {
        a++;
        alen--;
    }

    while (alen > 0 && a[alen - 1] == ' ') {
        alen--;
    }

    if (alen == 0) {
        return SD_ERR_FROM_NO_ADDR;
    }

    for (i = 0; i < alen; i++) {
        switch (a[i]) {

        case ',':
            return SD_ERR_FROM_MULTIPLE;

        case '(':
        case ')':
            return SD_ERR_FROM_COMMENT;

        case ':':                       /* a route, <@relay:a@b> */
        case ';':
        case '<':
        case ' ':
            return SD_ERR_FROM_SYNTAX;

        case '?':                       /* see sd_email_header_check() */
            if (i > 0 && a[i - 1] == '=') {
                return SD_ERR_FROM_ENCODED_WORD;
            }

            break;
        }
    }

    *addr = (const char *) a;
    *addr_len = alen;

    return SD_OK;
}


/*
 * A bare address: refuse here what sd_email_normalize() could not word
 * well itself; a quoted local part is left to it, it says so.
 */

static ssize_t
sd_from_bare(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (p[i]) {

        case ',':
            return SD_ERR_FROM_MULTIPLE;

        case ':':
        case ';':
            return SD_ERR_FROM_GROUP;

        case '(':
        case ')':
            return SD_ERR_FROM_COMMENT;

        case '>':
            return SD_ERR_FROM_SYNTAX;

        case '?':                       /* see sd_email_header_check() */
            if (i > 0 && p[i - 1] == '=') {
                return SD_ERR_FROM_ENCODED_WORD;
            }

            break;
        }
    }

    /* after the above: "a@b.com (Acme)" is about the comment */

    if (memchr(p, ' ', len) != NULL) {
        return SD_ERR_FROM_SYNTAX;      /* "Acme reports@acme.com" */
    }

    return SD_OK;
}


/*
 * Defensive: the caller normally passes a normalised address.  Printable
 * ASCII but for the space and the specials that would end or change an
 * angle address.
 */

static int
sd_from_addr_ok(const unsigned char *p, size_t len)
{
    size_t  i;

    if (len == 0 || memchr(p, '@', len) == NULL
        || !sd_ascii_printable(p, len))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (sd_from_specials[p[i] & 0x7f] & SD_SPECIAL_IN_ADDR) {
            return 0;
        }
    }

    return 1;
}


static ssize_t
sd_from_name_check(const unsigned char *p, size_t len, int *ascii)
{
    int                   n;
    uint32_t              cp;
    const unsigned char  *q, *end;

    *ascii = 1;

    /*
     * No name (sd_from_format(NULL, 0, ...), the resolver's bare-address
     * fallback): nothing to check.  "NULL + 0" below would be undefined
     * behaviour (UBSan: "applying zero offset to null pointer"; found by
     * t/fuzz/fuzz_from).
     */
    if (p == NULL || sd_ascii_printable(p, len)) {
        return SD_OK;
    }

    end = p + len;

    for (q = p; q < end; q += n) {
        if (*q >= 0x20 && *q < 0x7f) {
            n = 1;                      /* printable ASCII: most names */
            continue;
        }

        n = sd_utf8_decode(q, end, &cp);
        if (n < 0) {
            return SD_ERR_FROM_UTF8;
        }

        switch (sd_name_char_refused(cp)) {

        case 0:
            break;

        case SD_ERR_NAME_BIDI:
            return SD_ERR_NAME_BIDI;

        case SD_ERR_NAME_FORMAT:
            return SD_ERR_NAME_FORMAT;

        default:
            return SD_ERR_FROM_CONTROL;
        }

        if (cp >= 0x80) {
            *ascii = 0;
        }
    }

    return SD_OK;
}


/*
 * How an ASCII name is written.  Quoted: with RFC 5322 specials as
 * Python's email.utils.formataddr() sees them, or outer or doubled
 * spaces (which an unquoted phrase would let readers collapse).
 * Encoded-words: with "=?" anywhere.  RFC 2047 5 forbids decoding an
 * encoded-word inside quotes, but readers do it anyway (Python's
 * policy.default and compat32 decode_header() both turn
 * "=?utf-8?q?a=0D=0Ab?=" into a CR LF); encoded itself, the name
 * decodes to its own text, once, and nothing in it is decoded again.
 */

static int
sd_from_name_style(const unsigned char *p, size_t len)
{
    int     style;
    size_t  i;

    style = (p[0] == ' ' || p[len - 1] == ' ') ? SD_NAME_QUOTED
                                                : SD_NAME_PLAIN;

    for (i = 0; i < len; i++) {
        if (p[i] < 0x80 && (sd_from_specials[p[i]] & SD_SPECIAL_IN_NAME)) {
            style = SD_NAME_QUOTED;
        }

        if (i + 1 < len) {
            if (p[i] == '=' && p[i + 1] == '?') {
                return SD_NAME_ENCODED;
            }

            if (p[i] == ' ' && p[i + 1] == ' ') {
                style = SD_NAME_QUOTED;
            }
        }
    }

    return style;
}


static void
sd_put(sd_wbuf_t *b, const void *p, size_t len)
{
    if (b->overflow || (size_t) (b->end - b->pos) < len) {
        b->overflow = 1;
        return;
    }

    memcpy(b->pos, p, len);
    b->pos += len;
}


static void
sd_put_quoted(sd_wbuf_t *b, const unsigned char *p, size_t len)
{
    size_t  i;

    sd_put(b, "\"", 1);

    for (i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            sd_put(b, "\\", 1);
        }

        sd_put(b, &p[i], 1);
    }

    sd_put(b, "\"", 1);
}


/*
 * Greedy: each word takes as many whole UTF-8 characters as fit in 45
 * bytes, so a character is never split across words (RFC 2047 5) and
 * each word is at most 72 characters; words are separated by one space,
 * which readers drop between adjacent encoded-words (RFC 2047 6.2).
 */

static void
sd_put_encoded(sd_wbuf_t *b, const unsigned char *p, size_t len)
{
    int                   n;
    uint32_t              cp;
    const unsigned char  *start, *q, *end;

    end = p + len;
    start = p;

    while (start < end) {
        q = start;

        while (q < end) {
            n = sd_utf8_decode(q, end, &cp);    /* validated: n > 0 */

            if ((size_t) (q + n - start) > SD_EW_MAX_BYTES) {
                break;
            }

            q += n;
        }

        if (start != p) {
            sd_put(b, " ", 1);
        }

        sd_put(b, SD_EW_PREFIX, sizeof(SD_EW_PREFIX) - 1);
        sd_put_base64(b, start, q - start);
        sd_put(b, SD_EW_SUFFIX, sizeof(SD_EW_SUFFIX) - 1);

        start = q;
    }
}


static void
sd_put_base64(sd_wbuf_t *b, const unsigned char *p, size_t len)
{
    char           quad[4];
    size_t         i;
    uint32_t       v;
    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    for (i = 0; i < len; i += 3) {
        v = (uint32_t) p[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) p[i + 1] << 8;
        }

        if (i + 2 < len) {
            v |= p[i + 2];
        }

        quad[0] = alphabet[(v >> 18) & 0x3f];
        quad[1] = alphabet[(v >> 12) & 0x3f];
        quad[2] = (i + 1 < len) ? alphabet[(v >> 6) & 0x3f] : '=';
        quad[3] = (i + 2 < len) ? alphabet[v & 0x3f] : '=';

        sd_put(b, quad, 4);
    }
}


static ssize_t
sd_from_fail(ssize_t err, const char **errmsg)
{
    if (errmsg != NULL) {
        *errmsg = sd_strerror((int) err);
    }

    return err;
}
