/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: per-identity cooldowns (pure C).
 *
 * Refresh: at most one SES call per identity per SD_REFRESH_COOLDOWN s.
 * Resend: at most one verification email per SD_RESEND_COOLDOWN s and
 * SD_RESEND_MAX resends per SD_RESEND_WINDOW s.  docs/decisions.md.
 */

#include <string.h>

#include "sd_quota.h"
#include "sd_time.h"


static json_t *
sd_quota_limits(json_t *row)
{
    json_t  *l;

    l = json_object_get(row, SD_QUOTA_KEY);

    if (!json_is_object(l)) {
        l = json_object();
        json_object_set_new(row, SD_QUOTA_KEY, l);
    }

    return l;
}


int64_t
sd_quota_refresh_wait(const json_t *row, int64_t now, int64_t cooldown)
{
    json_t   *l;
    int64_t   at;

    l = json_object_get(row, SD_QUOTA_KEY);
    at = json_integer_value(json_object_get(l, "refresh_at"));

    /* never, long enough ago, or a clock that stepped far back */
    if (at <= 0 || now - at >= cooldown || at - now >= cooldown) {
        return 0;
    }

    return at + cooldown - now;
}


void
sd_quota_refresh_note(json_t *row, int64_t now)
{
    json_object_set_new(sd_quota_limits(row), "refresh_at",
                        json_integer(now));
}


int64_t
sd_quota_resend_wait(const json_t *row, int64_t now, int64_t cooldown,
    int64_t max, int *daily)
{
    size_t       i, n;
    json_t      *l, *a, *v;
    int64_t      t, last, oldest, wait;
    const char  *s;

    *daily = 0;
    last = 0;
    oldest = 0;
    n = 0;

    s = json_string_value(json_object_get(row, "verification_email_sent_at"));
    if (s && sd_time_parse(s, strlen(s), &t) == 0) {
        last = t;
    }

    l = json_object_get(row, SD_QUOTA_KEY);
    a = json_object_get(l, "resends");

    json_array_foreach(a, i, v) {
        t = json_integer_value(v);

        if (t > now - SD_RESEND_WINDOW) {
            n++;

            if (oldest == 0 || t < oldest) {
                oldest = t;
            }
        }

        if (t > last) {
            last = t;
        }
    }

    wait = 0;

    if (last && now - last < cooldown && last - now < cooldown) {
        wait = last + cooldown - now;
    }

    if (max && (int64_t) n >= max && oldest + SD_RESEND_WINDOW - now > wait) {
        wait = oldest + SD_RESEND_WINDOW - now;
        *daily = 1;
    }

    return wait;
}


void
sd_quota_resend_note(json_t *row, int64_t now)
{
    size_t   i;
    json_t  *a, *v, *keep;

    a = json_object_get(sd_quota_limits(row), "resends");
    keep = json_array();

    /* only the last 24 h matter: the list stays short */
    json_array_foreach(a, i, v) {
        if (json_integer_value(v) > now - SD_RESEND_WINDOW) {
            json_array_append(keep, v);
        }
    }

    json_array_append_new(keep, json_integer(now));
    json_object_set_new(sd_quota_limits(row), "resends", keep);
}


void
sd_quota_keep(json_t *to, const json_t *from)
{
    json_t  *l;

    l = json_object_get(from, SD_QUOTA_KEY);

    if (json_is_object(l)) {
        json_object_set(to, SD_QUOTA_KEY, l);

    } else {
        json_object_del(to, SD_QUOTA_KEY);
    }
}
