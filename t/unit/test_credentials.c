/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Unit tests for the AWS credentials parser
 * (src/core/sd_credentials.c).
 *
 * Build and run from the repository root:
 *
 *   cc -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -Isrc \
 *       t/unit/test_credentials.c src/core/sd_credentials.c \
 *       -lcrypto -lcmocka -o /tmp/test_credentials
 *   /tmp/test_credentials
 *   valgrind --leak-check=full --error-exitcode=1 /tmp/test_credentials
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_credentials.h"


#define T_AK        "AKIDEXAMPLE"
#define T_SK        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_TOKEN     "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4H"


/* parses a NUL-terminated file text; err always gets a message buffer */
static sd_cred_rc_e
t_parse(const char *text, const char *profile, sd_credentials_t *cred,
    char *err)
{
    return sd_credentials_parse(text, strlen(text), profile, cred, err,
                                SD_CRED_ERR_LEN);
}


/* the struct is all zero: nothing of a secret is left behind */
static void
t_assert_wiped(const sd_credentials_t *cred)
{
    size_t               i;
    const unsigned char  *p;

    p = (const unsigned char *) cred;

    for (i = 0; i < sizeof(*cred); i++) {
        if (p[i] != 0) {
            fail_msg("credentials not wiped at byte %zu", i);
        }
    }
}


static void
test_default_profile(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("[default]\n"
                             "aws_access_key_id = " T_AK "\n"
                             "aws_secret_access_key = " T_SK "\n",
                             NULL, &cred, err),
                     SD_CRED_OK);

    assert_string_equal(cred.access_key, T_AK);
    assert_string_equal(cred.secret_key, T_SK);
    assert_string_equal(cred.session_token, "");
    assert_string_equal(err, "");

    /* "" is the default profile too; no final newline */
    assert_int_equal(t_parse("[default]\naws_access_key_id=" T_AK
                             "\naws_secret_access_key=" T_SK,
                             "", &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.secret_key, T_SK);

    sd_credentials_wipe(&cred);
    t_assert_wiped(&cred);
}


static void
test_named_profile(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;
    static const char  text[] =
        "[default]\n"
        "aws_access_key_id = DEFAULTAK\n"
        "aws_secret_access_key = DEFAULTSK\n"
        "\n"
        "[ses-prod]\n"
        "region = us-east-1\n"
        "aws_access_key_id = PRODAK\n"
        "aws_secret_access_key = PRODSK\n"
        "[other]\n"
        "aws_access_key_id = OTHERAK\n";

    (void) state;

    assert_int_equal(t_parse(text, "ses-prod", &cred, err), SD_CRED_OK);
    assert_string_equal(cred.access_key, "PRODAK");
    assert_string_equal(cred.secret_key, "PRODSK");

    assert_int_equal(t_parse(text, "default", &cred, err), SD_CRED_OK);
    assert_string_equal(cred.access_key, "DEFAULTAK");

    /* section names are exact: no "profile " prefix, case matters */
    assert_int_equal(t_parse(text, "SES-PROD", &cred, err),
                     SD_CRED_NOT_FOUND);
    assert_int_equal(t_parse("[profile x]\naws_access_key_id=A\n"
                             "aws_secret_access_key=B\n", "x", &cred, err),
                     SD_CRED_NOT_FOUND);

    sd_credentials_wipe(&cred);
}


static void
test_missing_profile(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("[default]\naws_access_key_id=A\n"
                             "aws_secret_access_key=B\n", "prod", &cred, err),
                     SD_CRED_NOT_FOUND);
    assert_string_equal(err, "profile \"prod\" not found");
    t_assert_wiped(&cred);

    assert_int_equal(t_parse("", NULL, &cred, err), SD_CRED_NOT_FOUND);
    assert_string_equal(err, "profile \"default\" not found");

    assert_int_equal(sd_credentials_parse(NULL, 0, NULL, &cred, err,
                                          sizeof(err)),
                     SD_CRED_NOT_FOUND);

    /* a hostile profile name is cut and defanged in the message */
    assert_int_equal(t_parse("", "a\"b\nc", &cred, err), SD_CRED_NOT_FOUND);
    assert_string_equal(err, "profile \"a?b?c\" not found");

    {
        char  longname[200];

        memset(longname, 'p', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        assert_int_equal(t_parse("", longname, &cred, err),
                         SD_CRED_NOT_FOUND);
        assert_true(strlen(err) < 100);
        assert_non_null(strstr(err, "...\" not found"));
    }
}


static void
test_missing_keys(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("# creds\n\n[x]\naws_access_key_id = " T_AK "\n",
                             "x", &cred, err),
                     SD_CRED_MISSING_KEY);
    assert_string_equal(err,
                        "profile \"x\" (line 3) has no aws_secret_access_key");
    t_assert_wiped(&cred);

    assert_int_equal(t_parse("[x]\naws_secret_access_key = " T_SK "\n",
                             "x", &cred, err),
                     SD_CRED_MISSING_KEY);
    assert_string_equal(err,
                        "profile \"x\" (line 1) has no aws_access_key_id");
    t_assert_wiped(&cred);

    assert_int_equal(t_parse("[x]\naws_access_key_id =\n"
                             "aws_secret_access_key = " T_SK "\n",
                             "x", &cred, err),
                     SD_CRED_MISSING_KEY);
    assert_string_equal(err,
                        "profile \"x\" (line 1) has an empty "
                        "aws_access_key_id");

    /* the keys of another profile do not count */
    assert_int_equal(t_parse("[y]\naws_secret_access_key = " T_SK "\n"
                             "[x]\naws_access_key_id = " T_AK "\n",
                             "x", &cred, err),
                     SD_CRED_MISSING_KEY);
}


static void
test_session_token(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("[default]\naws_access_key_id=" T_AK "\n"
                             "aws_secret_access_key=" T_SK "\n"
                             "aws_session_token=" T_TOKEN "\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.session_token, T_TOKEN);

    /* the legacy name works alone ... */
    assert_int_equal(t_parse("[default]\naws_access_key_id=" T_AK "\n"
                             "aws_secret_access_key=" T_SK "\n"
                             "aws_security_token=LEGACY\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.session_token, "LEGACY");

    /* ... but aws_session_token wins wherever it is */
    assert_int_equal(t_parse("[default]\naws_session_token=NEW\n"
                             "aws_access_key_id=" T_AK "\n"
                             "aws_secret_access_key=" T_SK "\n"
                             "aws_security_token=LEGACY\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.session_token, "NEW");

    sd_credentials_wipe(&cred);
}


static void
test_format_variants(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    /* CRLF, BOM, comments, blanks, tabs, ':' delimiter, key case */
    assert_int_equal(t_parse("\xef\xbb\xbf; written by hand\r\n"
                             "\r\n"
                             "  # indented comment\r\n"
                             "[ default ]\r\n"
                             "AWS_Access_Key_Id\t=\t" T_AK "\r\n"
                             "   \r\n"
                             "aws_secret_access_key: " T_SK "  \r\n"
                             "aws_session_token = " T_TOKEN " # temporary\r\n"
                             "output = json ; ignored\r\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.access_key, T_AK);
    assert_string_equal(cred.secret_key, T_SK);
    assert_string_equal(cred.session_token, T_TOKEN);

    /* a '#' or ';' inside a value (no space before it) is kept */
    assert_int_equal(t_parse("[default]\naws_access_key_id=A#B\n"
                             "aws_secret_access_key=C;D\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.access_key, "A#B");
    assert_string_equal(cred.secret_key, "C;D");

    /* the first delimiter ends the key; the value may hold '=' */
    assert_int_equal(t_parse("[default]\naws_access_key_id=" T_AK "\n"
                             "aws_secret_access_key = abc==\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.secret_key, "abc==");

    sd_credentials_wipe(&cred);
}


static void
test_duplicates_last_wins(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("[default]\n"
                             "aws_access_key_id = FIRST\n"
                             "aws_secret_access_key = S1\n"
                             "aws_access_key_id = SECOND\n"
                             "[other]\n"
                             "aws_access_key_id = NOTME\n"
                             "[default]\n"
                             "aws_secret_access_key = S2\n",
                             NULL, &cred, err),
                     SD_CRED_OK);
    assert_string_equal(cred.access_key, "SECOND");
    assert_string_equal(cred.secret_key, "S2");

    sd_credentials_wipe(&cred);
}


static void
test_syntax_errors(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(t_parse("[default]\naws_access_key_id=" T_AK "\n"
                             T_SK "\n", NULL, &cred, err),
                     SD_CRED_SYNTAX);
    assert_string_equal(err, "line 3: expected \"name = value\" in profile "
                             "\"default\"");
    assert_null(strstr(err, T_SK));
    t_assert_wiped(&cred);

    assert_int_equal(t_parse("[default\naws_access_key_id=A\n", NULL, &cred,
                             err),
                     SD_CRED_SYNTAX);
    assert_string_equal(err, "line 1: malformed section header");

    assert_int_equal(t_parse("[default]\n= value\n", NULL, &cred, err),
                     SD_CRED_SYNTAX);

    /* junk in another profile is another tool's business */
    assert_int_equal(t_parse("[junk]\nnot a key line\n[default]\n"
                             "aws_access_key_id=A\n"
                             "aws_secret_access_key=B\n", NULL, &cred, err),
                     SD_CRED_OK);

    sd_credentials_wipe(&cred);
}


static void
test_oversize_values(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    char             *text, *p;
    sd_credentials_t  cred;

    (void) state;

    text = malloc(2 * SD_CRED_SESSION_TOKEN_MAX);
    assert_non_null(text);

    /* exactly at the limit: accepted */
    p = text + sprintf(text, "[default]\naws_access_key_id=");
    memset(p, 'A', SD_CRED_ACCESS_KEY_MAX);
    p += SD_CRED_ACCESS_KEY_MAX;
    p += sprintf(p, "\naws_secret_access_key=S\naws_session_token=");
    memset(p, 'T', SD_CRED_SESSION_TOKEN_MAX);
    p += SD_CRED_SESSION_TOKEN_MAX;
    *p = '\0';

    assert_int_equal(t_parse(text, NULL, &cred, err), SD_CRED_OK);
    assert_int_equal(strlen(cred.access_key), SD_CRED_ACCESS_KEY_MAX);
    assert_int_equal(strlen(cred.session_token), SD_CRED_SESSION_TOKEN_MAX);

    /* one byte more: rejected, with the line and the limit */
    p[0] = 'T';
    p[1] = '\0';

    assert_int_equal(t_parse(text, NULL, &cred, err), SD_CRED_TOO_LONG);
    assert_string_equal(err, "line 4: aws_session_token is longer than "
                             "4096 bytes");
    t_assert_wiped(&cred);

    p = text + sprintf(text, "[default]\naws_access_key_id=A\n"
                       "aws_secret_access_key=");
    memset(p, 'S', SD_CRED_SECRET_KEY_MAX + 1);
    p[SD_CRED_SECRET_KEY_MAX + 1] = '\0';

    assert_int_equal(t_parse(text, NULL, &cred, err), SD_CRED_TOO_LONG);
    assert_string_equal(err, "line 3: aws_secret_access_key is longer than "
                             "128 bytes");
    t_assert_wiped(&cred);

    free(text);
}


static void
test_bad_characters(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;
    static const char  text[] = "[default]\naws_access_key_id=A\n"
                                "aws_secret_access_key=se cret\x01\n";

    (void) state;

    assert_int_equal(t_parse(text, NULL, &cred, err), SD_CRED_BAD_VALUE);
    assert_string_equal(err, "line 3: aws_secret_access_key contains spaces "
                             "or control characters");
    t_assert_wiped(&cred);

    /* a NUL byte inside the buffer is not the end of the value */
    assert_int_equal(sd_credentials_parse(text, sizeof(text) - 1, NULL,
                                          &cred, err, sizeof(err)),
                     SD_CRED_BAD_VALUE);

    {
        static const char  nul[] = "[default]\naws_access_key_id=A\0B\n"
                                   "aws_secret_access_key=C\n";

        assert_int_equal(sd_credentials_parse(nul, sizeof(nul) - 1, NULL,
                                              &cred, err, sizeof(err)),
                         SD_CRED_BAD_VALUE);
    }
}


/*
 * No message may quote a value: every failing input here holds the secret
 * in some form, and no message may contain any 8-byte piece of it.
 */
static void
test_secret_never_in_errors(void **state)
{
    size_t            i, j;
    char              err[SD_CRED_ERR_LEN], piece[9];
    sd_credentials_t  cred;
    static const char  *bad[] = {
        "[default]\naws_access_key_id = " T_SK "\n",
        "[default]\naws_secret_access_key = " T_SK "\n",
        "[default]\n" T_SK "\n",
        "[default]\naws_access_key_id=A\n aws_secret_access_key " T_SK "\n",
        "[default]\naws_access_key_id=A\naws_secret_access_key=" T_SK " x\n",
        "[" T_SK "\n",
        "[default]\naws_access_key_id=" T_SK T_SK T_SK T_SK "\n"
            "aws_secret_access_key=" T_SK "\n",
        "[default]\naws_access_key_id=A\n"
            "aws_secret_access_key=" T_SK T_SK T_SK T_SK "\n",
        "[x]\naws_access_key_id=A\naws_secret_access_key=" T_SK "\n",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(t_parse(bad[i], NULL, &cred, err), SD_CRED_OK);
        assert_true(err[0] != '\0');
        t_assert_wiped(&cred);

        for (j = 0; j + 8 <= strlen(T_SK); j++) {
            memcpy(piece, T_SK + j, 8);
            piece[8] = '\0';

            if (strstr(err, piece)) {
                fail_msg("case %zu: message \"%s\" leaks the secret", i, err);
            }
        }
    }
}


static void
test_null_err_and_args(void **state)
{
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(sd_credentials_parse("[x]\n", 4, NULL, &cred, NULL, 0),
                     SD_CRED_NOT_FOUND);
    assert_int_equal(sd_credentials_parse("x", 1, NULL, NULL, NULL, 0),
                     SD_CRED_EINVAL);
    assert_int_equal(sd_credentials_parse(NULL, 5, NULL, &cred, NULL, 0),
                     SD_CRED_EINVAL);

    {
        char  small[8];

        /* truncated, still NUL-terminated */
        assert_int_equal(sd_credentials_parse("", 0, "prod", &cred, small,
                                              sizeof(small)),
                         SD_CRED_NOT_FOUND);
        assert_string_equal(small, "profile");
    }

    assert_string_equal(sd_credentials_strerror(SD_CRED_TOO_LONG),
                        "credential value too long");

    sd_credentials_wipe(NULL);
}


/* ---- environment ---- */

/*
 * A fake environment for sd_credentials_from_env(); getenv's type has no
 * context argument, so the test keeps it in a file-level table.
 */
static const char  *t_env[8][2];


static void
t_env_set(const char *name, const char *value)
{
    size_t  i;

    for (i = 0; i < 8; i++) {
        if (t_env[i][0] == NULL || strcmp(t_env[i][0], name) == 0) {
            t_env[i][0] = name;
            t_env[i][1] = value;
            return;
        }
    }

    fail_msg("fake environment full");
}


static char *
t_getenv(const char *name)
{
    size_t  i;

    for (i = 0; i < 8 && t_env[i][0]; i++) {
        if (strcmp(t_env[i][0], name) == 0) {
            return (char *) t_env[i][1];
        }
    }

    return NULL;
}


static int
t_env_reset(void **state)
{
    (void) state;

    memset(t_env, 0, sizeof(t_env));

    return 0;
}


static void
test_env_ok(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    t_env_set("AWS_ACCESS_KEY_ID", T_AK);
    t_env_set("AWS_SECRET_ACCESS_KEY", T_SK "\n");     /* from $(cat) */

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_OK);
    assert_string_equal(cred.access_key, T_AK);
    assert_string_equal(cred.secret_key, T_SK);
    assert_string_equal(cred.session_token, "");

    t_env_set("AWS_SECURITY_TOKEN", "LEGACY");
    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_OK);
    assert_string_equal(cred.session_token, "LEGACY");

    t_env_set("AWS_SESSION_TOKEN", T_TOKEN);
    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_OK);
    assert_string_equal(cred.session_token, T_TOKEN);

    sd_credentials_wipe(&cred);
}


static void
test_env_missing(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    sd_credentials_t  cred;

    (void) state;

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_NOT_FOUND);
    assert_string_equal(err, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                             "are not set");

    /* empty is unset */
    t_env_set("AWS_ACCESS_KEY_ID", "");
    t_env_set("AWS_SECRET_ACCESS_KEY", T_SK);

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_MISSING_KEY);
    assert_string_equal(err, "AWS_SECRET_ACCESS_KEY is set but "
                             "AWS_ACCESS_KEY_ID is not");
    t_assert_wiped(&cred);

    t_env_set("AWS_ACCESS_KEY_ID", T_AK);
    t_env_set("AWS_SECRET_ACCESS_KEY", NULL);

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_MISSING_KEY);
    assert_string_equal(err, "AWS_ACCESS_KEY_ID is set but "
                             "AWS_SECRET_ACCESS_KEY is not");

    assert_int_equal(sd_credentials_from_env(NULL, &cred, err, sizeof(err)),
                     SD_CRED_EINVAL);
}


static void
test_env_bad_values(void **state)
{
    char              err[SD_CRED_ERR_LEN];
    char              big[SD_CRED_SECRET_KEY_MAX + 2];
    sd_credentials_t  cred;

    (void) state;

    t_env_set("AWS_ACCESS_KEY_ID", T_AK);
    t_env_set("AWS_SECRET_ACCESS_KEY", "wJalr XUtn");

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_BAD_VALUE);
    assert_string_equal(err, "AWS_SECRET_ACCESS_KEY contains spaces or "
                             "control characters");
    assert_null(strstr(err, "wJalr"));
    t_assert_wiped(&cred);

    memset(big, 'S', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t_env_set("AWS_SECRET_ACCESS_KEY", big);

    assert_int_equal(sd_credentials_from_env(t_getenv, &cred, err,
                                             sizeof(err)),
                     SD_CRED_TOO_LONG);
    assert_string_equal(err, "AWS_SECRET_ACCESS_KEY is longer than 128 "
                             "bytes");
    t_assert_wiped(&cred);
}


int
main(void)
{
    static const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_default_profile),
        cmocka_unit_test(test_named_profile),
        cmocka_unit_test(test_missing_profile),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_session_token),
        cmocka_unit_test(test_format_variants),
        cmocka_unit_test(test_duplicates_last_wins),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_oversize_values),
        cmocka_unit_test(test_bad_characters),
        cmocka_unit_test(test_secret_never_in_errors),
        cmocka_unit_test(test_null_err_and_args),
        cmocka_unit_test_setup(test_env_ok, t_env_reset),
        cmocka_unit_test_setup(test_env_missing, t_env_reset),
        cmocka_unit_test_setup(test_env_bad_values, t_env_reset),
    };

    return cmocka_run_group_tests_name("credentials", tests, NULL, NULL);
}
