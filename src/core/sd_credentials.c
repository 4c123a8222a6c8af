/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: AWS credentials.
 *
 * The parser never copies a value anywhere but into the caller's struct:
 * while scanning it only remembers where the last value of each key is in
 * the caller's buffer, and copies the winners at the end.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sd_credentials.h"


#define SD_CRED_PROFILE_SHOW    64      /* profile name in messages, max */


enum {
    SD_CRED_KEY_ACCESS = 0,
    SD_CRED_KEY_SECRET,
    SD_CRED_KEY_SESSION,
    SD_CRED_KEY_SECURITY,               /* legacy name of the session token */
    SD_CRED_KEY_N
};


/* where the last value of a key is: a span of the caller's buffer */
typedef struct {
    const char             *value;
    size_t                  len;
    unsigned                line;       /* 0: not seen */
} sd_cred_span_t;


typedef struct {
    const char             *name;
    size_t                  max;
} sd_cred_key_t;


static const sd_cred_key_t  sd_cred_keys[SD_CRED_KEY_N] = {
    { "aws_access_key_id", SD_CRED_ACCESS_KEY_MAX },
    { "aws_secret_access_key", SD_CRED_SECRET_KEY_MAX },
    { "aws_session_token", SD_CRED_SESSION_TOKEN_MAX },
    { "aws_security_token", SD_CRED_SESSION_TOKEN_MAX },
};


const char *
sd_credentials_strerror(sd_cred_rc_e rc)
{
    switch (rc) {
    case SD_CRED_OK:
        return "ok";
    case SD_CRED_NOT_FOUND:
        return "credentials not found";
    case SD_CRED_MISSING_KEY:
        return "incomplete credentials";
    case SD_CRED_TOO_LONG:
        return "credential value too long";
    case SD_CRED_BAD_VALUE:
        return "credential value has characters that are not allowed";
    case SD_CRED_SYNTAX:
        return "credentials file syntax error";
    case SD_CRED_EINVAL:
        return "invalid arguments";
    }

    return "unknown error";
}


void
sd_credentials_wipe(sd_credentials_t *cred)
{
    if (cred) {
        OPENSSL_cleanse(cred, sizeof(*cred));
    }
}


#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static sd_cred_rc_e
sd_cred_error(sd_cred_rc_e rc, char *err, size_t err_size,
    const char *fmt, ...)
{
    va_list  args;

    if (err && err_size) {
        va_start(args, fmt);
        vsnprintf(err, err_size, fmt, args);
        va_end(args);
    }

    return rc;
}


/*
 * The profile name as it may appear in a message: it comes from nginx.conf,
 * not from the file, but is still cut short and stripped of controls.
 */
static void
sd_cred_show(char *dst, const char *name)
{
    size_t  i;

    for (i = 0; name[i] && i < SD_CRED_PROFILE_SHOW; i++) {
        dst[i] = ((unsigned char) name[i] < 0x20 || name[i] == 0x7f
                  || name[i] == '"') ? '?' : name[i];
    }

    dst[i] = '\0';

    if (name[i]) {
        memcpy(dst + i, "...", 4);
    }
}


static int
sd_cred_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v'
           || c == '\f';
}


static void
sd_cred_trim(const char **s, size_t *len)
{
    while (*len > 0 && sd_cred_blank((unsigned char) (*s)[0])) {
        (*s)++;
        (*len)--;
    }

    while (*len > 0 && sd_cred_blank((unsigned char) (*s)[*len - 1])) {
        (*len)--;
    }
}


static int
sd_cred_key_is(const char *key, size_t len, const char *name)
{
    size_t         i;
    unsigned char  c;

    if (len != strlen(name)) {
        return 0;
    }

    /* configparser lower-cases option names: so do we, ASCII only */
    for (i = 0; i < len; i++) {
        c = (unsigned char) key[i];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (unsigned char) name[i]) {
            return 0;
        }
    }

    return 1;
}


/* a value that ends at " #" or " ;" has a comment after it */
static void
sd_cred_strip_comment(const char *value, size_t *len)
{
    size_t  i;

    for (i = 1; i < *len; i++) {
        if ((value[i] == '#' || value[i] == ';')
            && sd_cred_blank((unsigned char) value[i - 1]))
        {
            *len = i;
            sd_cred_trim(&value, len);
            return;
        }
    }
}


/* keys, secrets and tokens are printable ASCII without spaces */
static int
sd_cred_value_ok(const char *v, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) v[i] <= ' ' || (unsigned char) v[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/* "[ name ]": 1 and the trimmed name, 0 if the brackets are wrong */
static int
sd_cred_section(const char *line, size_t len, const char **name,
    size_t *name_len)
{
    if (len < 2 || line[0] != '[' || line[len - 1] != ']') {
        return 0;
    }

    *name = line + 1;
    *name_len = len - 2;
    sd_cred_trim(name, name_len);

    return 1;
}


/* remembers "key = value" if key is one of ours; -1 on a syntax error */
static int
sd_cred_key_line(const char *line, size_t len, unsigned line_no,
    sd_cred_span_t *spans)
{
    size_t       i, key_len, value_len;
    const char  *key, *value;

    /* the first '=' or ':' ends the key, as in configparser */
    for (i = 0; i < len; i++) {
        if (line[i] == '=' || line[i] == ':') {
            break;
        }
    }

    if (i == len || i == 0) {
        return -1;
    }

    key = line;
    key_len = i;
    sd_cred_trim(&key, &key_len);

    if (key_len == 0) {
        return -1;
    }

    value = line + i + 1;
    value_len = len - i - 1;
    sd_cred_trim(&value, &value_len);
    sd_cred_strip_comment(value, &value_len);

    for (i = 0; i < SD_CRED_KEY_N; i++) {
        if (sd_cred_key_is(key, key_len, sd_cred_keys[i].name)) {
            spans[i].value = value;
            spans[i].len = value_len;
            spans[i].line = line_no;
        }
    }

    return 0;
}


/* checks one span and copies it into dst (which holds max + 1 bytes) */
static sd_cred_rc_e
sd_cred_copy(const sd_cred_span_t *span, const sd_cred_key_t *key, char *dst,
    char *err, size_t err_size)
{
    if (span->len > key->max) {
        return sd_cred_error(SD_CRED_TOO_LONG, err, err_size,
                             "line %u: %s is longer than %zu bytes",
                             span->line, key->name, key->max);
    }

    if (!sd_cred_value_ok(span->value, span->len)) {
        return sd_cred_error(SD_CRED_BAD_VALUE, err, err_size,
                             "line %u: %s contains spaces or control "
                             "characters", span->line, key->name);
    }

    memcpy(dst, span->value, span->len);
    dst[span->len] = '\0';

    return SD_CRED_OK;
}


static sd_cred_rc_e
sd_cred_fill(const sd_cred_span_t *spans, const char *shown,
    unsigned section_line, sd_credentials_t *cred, char *err,
    size_t err_size)
{
    size_t                 i;
    sd_cred_rc_e           rc;
    const sd_cred_span_t  *token;

    for (i = SD_CRED_KEY_ACCESS; i <= SD_CRED_KEY_SECRET; i++) {
        if (spans[i].line == 0 || spans[i].len == 0) {
            return sd_cred_error(SD_CRED_MISSING_KEY, err, err_size,
                                 "profile \"%s\" (line %u) has %s %s",
                                 shown, section_line,
                                 spans[i].line ? "an empty" : "no",
                                 sd_cred_keys[i].name);
        }
    }

    rc = sd_cred_copy(&spans[SD_CRED_KEY_ACCESS],
                      &sd_cred_keys[SD_CRED_KEY_ACCESS], cred->access_key,
                      err, err_size);

    if (rc == SD_CRED_OK) {
        rc = sd_cred_copy(&spans[SD_CRED_KEY_SECRET],
                          &sd_cred_keys[SD_CRED_KEY_SECRET], cred->secret_key,
                          err, err_size);
    }

    /* botocore: aws_session_token if present, else aws_security_token */
    i = spans[SD_CRED_KEY_SESSION].line ? SD_CRED_KEY_SESSION
                                        : SD_CRED_KEY_SECURITY;
    token = &spans[i];

    if (rc == SD_CRED_OK && token->line) {
        rc = sd_cred_copy(token, &sd_cred_keys[i], cred->session_token,
                          err, err_size);
    }

    return rc;
}


sd_cred_rc_e
sd_credentials_parse(const char *buf, size_t len, const char *profile,
    sd_credentials_t *cred, char *err, size_t err_size)
{
    int             in_profile;
    char            shown[SD_CRED_PROFILE_SHOW + 4];
    size_t          line_len, name_len;
    unsigned        line_no, section_line;
    const char     *p, *end, *line, *nl, *name;
    sd_cred_rc_e    rc;
    sd_cred_span_t  spans[SD_CRED_KEY_N];

    if (err && err_size) {
        err[0] = '\0';
    }

    if (cred == NULL || (buf == NULL && len != 0)) {
        return sd_cred_error(SD_CRED_EINVAL, err, err_size,
                             "invalid arguments");
    }

    sd_credentials_wipe(cred);

    if (profile == NULL || profile[0] == '\0') {
        profile = SD_CRED_DEFAULT_PROFILE;
    }

    sd_cred_show(shown, profile);
    memset(spans, 0, sizeof(spans));

    p = buf;
    end = buf + len;

    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
        p += 3;                                 /* Notepad's BOM */
    }

    in_profile = 0;
    line_no = 0;
    section_line = 0;

    while (p < end) {
        line = p;
        nl = memchr(p, '\n', (size_t) (end - p));
        line_len = (size_t) ((nl ? nl : end) - line);
        p = nl ? nl + 1 : end;
        line_no++;

        sd_cred_trim(&line, &line_len);

        if (line_len == 0 || line[0] == '#' || line[0] == ';') {
            continue;
        }

        if (line[0] == '[') {
            if (!sd_cred_section(line, line_len, &name, &name_len)) {
                return sd_cred_error(SD_CRED_SYNTAX, err, err_size,
                                     "line %u: malformed section header",
                                     line_no);
            }

            in_profile = (name_len == strlen(profile)
                          && memcmp(name, profile, name_len) == 0);

            if (in_profile && section_line == 0) {
                section_line = line_no;
            }

            continue;
        }

        /* other profiles may be for other tools: not our business */
        if (!in_profile) {
            continue;
        }

        if (sd_cred_key_line(line, line_len, line_no, spans) != 0) {
            return sd_cred_error(SD_CRED_SYNTAX, err, err_size,
                                 "line %u: expected \"name = value\" in "
                                 "profile \"%s\"", line_no, shown);
        }
    }

    if (section_line == 0) {
        return sd_cred_error(SD_CRED_NOT_FOUND, err, err_size,
                             "profile \"%s\" not found", shown);
    }

    rc = sd_cred_fill(spans, shown, section_line, cred, err, err_size);

    if (rc != SD_CRED_OK) {
        sd_credentials_wipe(cred);
    }

    return rc;
}


/* one variable into dst; *set tells whether it was there at all */
static sd_cred_rc_e
sd_cred_env_var(sd_getenv_pt getenv_fn, const char *var, size_t max,
    char *dst, int *set, char *err, size_t err_size)
{
    size_t       len;
    const char  *v;

    v = getenv_fn(var);
    len = v ? strlen(v) : 0;

    if (len) {
        sd_cred_trim(&v, &len);
    }

    *set = (len > 0);

    if (!*set) {
        return SD_CRED_OK;
    }

    if (len > max) {
        return sd_cred_error(SD_CRED_TOO_LONG, err, err_size,
                             "%s is longer than %zu bytes", var, max);
    }

    if (!sd_cred_value_ok(v, len)) {
        return sd_cred_error(SD_CRED_BAD_VALUE, err, err_size,
                             "%s contains spaces or control characters",
                             var);
    }

    memcpy(dst, v, len);
    dst[len] = '\0';

    return SD_CRED_OK;
}


sd_cred_rc_e
sd_credentials_from_env(sd_getenv_pt getenv_fn, sd_credentials_t *cred,
    char *err, size_t err_size)
{
    int           ak, sk, tok;
    sd_cred_rc_e  rc;

    if (err && err_size) {
        err[0] = '\0';
    }

    if (getenv_fn == NULL || cred == NULL) {
        return sd_cred_error(SD_CRED_EINVAL, err, err_size,
                             "invalid arguments");
    }

    sd_credentials_wipe(cred);

    ak = 0;
    sk = 0;
    tok = 0;

    rc = sd_cred_env_var(getenv_fn, "AWS_ACCESS_KEY_ID",
                         SD_CRED_ACCESS_KEY_MAX, cred->access_key, &ak,
                         err, err_size);

    if (rc == SD_CRED_OK) {
        rc = sd_cred_env_var(getenv_fn, "AWS_SECRET_ACCESS_KEY",
                             SD_CRED_SECRET_KEY_MAX, cred->secret_key, &sk,
                             err, err_size);
    }

    if (rc == SD_CRED_OK) {
        rc = sd_cred_env_var(getenv_fn, "AWS_SESSION_TOKEN",
                             SD_CRED_SESSION_TOKEN_MAX, cred->session_token,
                             &tok, err, err_size);
    }

    if (rc == SD_CRED_OK && !tok) {
        rc = sd_cred_env_var(getenv_fn, "AWS_SECURITY_TOKEN",
                             SD_CRED_SESSION_TOKEN_MAX, cred->session_token,
                             &tok, err, err_size);
    }

    if (rc == SD_CRED_OK && !ak && !sk) {
        rc = sd_cred_error(SD_CRED_NOT_FOUND, err, err_size,
                           "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                           "are not set");

    } else if (rc == SD_CRED_OK && (!ak || !sk)) {
        rc = sd_cred_error(SD_CRED_MISSING_KEY, err, err_size,
                           "%s is set but %s is not",
                           ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                           ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    }

    if (rc != SD_CRED_OK) {
        sd_credentials_wipe(cred);
    }

    return rc;
}
