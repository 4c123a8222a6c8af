/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: DNS answers in wire format (pure core).
 *
 * Every read is checked against the end of the message; compressed names
 * follow at most SD_DNSW_HOPS pointers, each strictly backwards, so a
 * hostile answer can neither loop nor read outside the buffer.
 */


#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sd_dnswire.h"


#define SD_DNSW_HOPS   64


static int sd_dnsw_name(const unsigned char *msg, size_t len, size_t *pos,
    char *out, size_t outsz);
static int sd_dnsw_skip_name(const unsigned char *msg, size_t len,
    size_t *pos);
static uint16_t sd_dnsw_u16(const unsigned char *p);
static uint32_t sd_dnsw_u32(const unsigned char *p);
static int sd_dnsw_rdata(const unsigned char *msg, size_t len, size_t pos,
    size_t rdlen, sd_dnsw_rr_t *rr);


int
sd_dnsw_parse(const unsigned char *msg, size_t len, sd_dnsw_answer_t *a)
{
    size_t         pos, rdlen, i, p;
    unsigned       qd, an, ns, type;
    uint32_t       ttl, min;
    sd_dnsw_rr_t  *rr;
    char           owner[SD_DNSW_NAME_MAX + 1];

    memset(a, 0, offsetof(sd_dnsw_answer_t, rr));

    if (msg == NULL || len < 12 || !(msg[2] & 0x80)) {
        return -1;
    }

    a->rcode = msg[3] & 0x0f;
    a->truncated = (msg[2] & 0x02) ? 1 : 0;

    qd = sd_dnsw_u16(msg + 4);
    an = sd_dnsw_u16(msg + 6);
    ns = sd_dnsw_u16(msg + 8);

    pos = 12;

    for (i = 0; i < qd; i++) {
        if (sd_dnsw_skip_name(msg, len, &pos) != 0 || len - pos < 4) {
            return -1;
        }

        pos += 4;
    }

    for (i = 0; i < (size_t) an + ns; i++) {
        if (sd_dnsw_name(msg, len, &pos, owner, sizeof(owner)) != 0
            || len - pos < 10)
        {
            return -1;
        }

        type = sd_dnsw_u16(msg + pos);
        ttl = sd_dnsw_u32(msg + pos + 4);
        rdlen = sd_dnsw_u16(msg + pos + 8);
        pos += 10;

        if (len - pos < rdlen) {
            return -1;
        }

        if (ttl > 0x7fffffff) {
            ttl = 0;                            /* RFC 2181 8 */
        }

        if (i >= an) {
            /* authority: a negative answer's SOA (RFC 2308 5) */
            if (type == SD_DNS_T_SOA && rdlen >= 22 && !a->has_soa) {
                min = sd_dnsw_u32(msg + pos + rdlen - 4);
                a->negative_ttl = ttl < min ? ttl : min;
                a->has_soa = 1;
                memcpy(a->auth_zone, owner, sizeof(owner));
            }

            /* a referral: the child zone and its name servers */
            if (type == SD_DNS_T_NS && !a->has_soa
                && (a->auth_zone[0] == '\0'
                    || strcmp(a->auth_zone, owner) == 0))
            {
                memcpy(a->auth_zone, owner, sizeof(owner));
                p = pos;

                if (a->nauth_ns < SD_DNSW_AUTH_NS_MAX
                    && sd_dnsw_name(msg, pos + rdlen, &p,
                                    a->auth_ns[a->nauth_ns],
                                    sizeof(a->auth_ns[0])) == 0)
                {
                    a->nauth_ns++;
                }
            }

            pos += rdlen;
            continue;
        }

        if (a->nrr == SD_DNSW_RR_MAX
            || (type != SD_DNS_T_A && type != SD_DNS_T_AAAA
                && type != SD_DNS_T_CNAME && type != SD_DNS_T_NS
                && type != SD_DNS_T_MX && type != SD_DNS_T_TXT
                && type != SD_DNS_T_SOA))
        {
            pos += rdlen;
            continue;
        }

        rr = &a->rr[a->nrr];
        memset(rr, 0, sizeof(sd_dnsw_rr_t));
        rr->type = type;
        rr->ttl = ttl;
        memcpy(rr->owner, owner, sizeof(owner));

        if (sd_dnsw_rdata(msg, len, pos, rdlen, rr) != 0) {
            return -1;
        }

        a->nrr++;
        pos += rdlen;
    }

    return 0;
}


static int
sd_dnsw_rdata(const unsigned char *msg, size_t len, size_t pos,
    size_t rdlen, sd_dnsw_rr_t *rr)
{
    size_t          end, p, n, room;
    const unsigned char  *b;

    (void) len;

    end = pos + rdlen;
    b = msg + pos;

    switch (rr->type) {

    case SD_DNS_T_A:
        if (rdlen != 4) {
            return -1;
        }

        rr->data_len = snprintf(rr->data, sizeof(rr->data), "%u.%u.%u.%u",
                                b[0], b[1], b[2], b[3]);
        return 0;

    case SD_DNS_T_AAAA:
        if (rdlen != 16) {
            return -1;
        }

        rr->data_len = snprintf(rr->data, sizeof(rr->data),
                           "%x:%x:%x:%x:%x:%x:%x:%x",
                           sd_dnsw_u16(b), sd_dnsw_u16(b + 2),
                           sd_dnsw_u16(b + 4), sd_dnsw_u16(b + 6),
                           sd_dnsw_u16(b + 8), sd_dnsw_u16(b + 10),
                           sd_dnsw_u16(b + 12), sd_dnsw_u16(b + 14));
        return 0;

    case SD_DNS_T_MX:
        if (rdlen < 3) {
            return -1;
        }

        rr->pref = sd_dnsw_u16(b);
        p = pos + 2;
        goto name;

    case SD_DNS_T_CNAME:
    case SD_DNS_T_NS:
    case SD_DNS_T_SOA:                          /* its MNAME */
        p = pos;

    name:

        /* a name inside RDATA may point anywhere before it, not past end */
        if (sd_dnsw_name(msg, end, &p, rr->data, sizeof(rr->data)) != 0
            || (rr->type != SD_DNS_T_SOA && p != end))
        {
            return -1;
        }

        rr->data_len = strlen(rr->data);
        return 0;

    case SD_DNS_T_TXT:
        p = pos;

        while (p < end) {
            n = msg[p++];

            if (end - p < n) {
                return -1;
            }

            room = SD_DNSW_DATA_MAX - rr->data_len;

            if (n > room) {
                n = room;
                rr->truncated = 1;
            }

            memcpy(rr->data + rr->data_len, msg + p, n);
            rr->data_len += n;
            p += msg[p - 1];

            if (rr->nstrings < SD_DNSW_STRINGS_MAX) {
                rr->ends[rr->nstrings] = (uint16_t) rr->data_len;
            }

            rr->nstrings++;
        }

        rr->data[rr->data_len] = '\0';
        return 0;
    }

    return -1;
}


/*
 * A name at *pos in presentation form: lower case, labels joined by dots,
 * no root dot ("" for the root); bytes other than letters, digits, '-'
 * and '_' are written as \DDD.  *pos moves past the name as it is in the
 * message (the first pointer ends it).
 */

static int
sd_dnsw_name(const unsigned char *msg, size_t len, size_t *pos, char *out,
    size_t outsz)
{
    size_t         p, o, ptr_end, i;
    unsigned       hops, n, c;

    p = *pos;
    o = 0;
    hops = 0;
    ptr_end = 0;

    for ( ;; ) {
        if (p >= len) {
            return -1;
        }

        n = msg[p];

        if ((n & 0xc0) == 0xc0) {
            if (p + 1 >= len || ++hops > SD_DNSW_HOPS) {
                return -1;
            }

            if (ptr_end == 0) {
                ptr_end = p + 2;
            }

            c = ((n & 0x3f) << 8) | msg[p + 1];

            if (c >= p) {
                return -1;                      /* only backwards */
            }

            p = c;
            continue;
        }

        if (n & 0xc0) {
            return -1;                          /* reserved label types */
        }

        p++;

        if (n == 0) {
            break;
        }

        if (len - p < n) {
            return -1;
        }

        if (o != 0) {
            if (o + 1 >= outsz) {
                return -1;
            }

            out[o++] = '.';
        }

        for (i = 0; i < n; i++) {
            c = msg[p + i];

            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }

            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '-' || c == '_')
            {
                if (o + 1 >= outsz) {
                    return -1;
                }

                out[o++] = (char) c;

            } else {
                if (o + 4 >= outsz) {
                    return -1;
                }

                o += snprintf(out + o, outsz - o, "\\%03u", c);
            }
        }

        p += n;
    }

    out[o] = '\0';
    *pos = ptr_end ? ptr_end : p;

    return 0;
}


static int
sd_dnsw_skip_name(const unsigned char *msg, size_t len, size_t *pos)
{
    char  buf[SD_DNSW_NAME_MAX * 4 + 1];

    return sd_dnsw_name(msg, len, pos, buf, sizeof(buf));
}


static uint16_t
sd_dnsw_u16(const unsigned char *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
sd_dnsw_u32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static const struct {
    unsigned     type;
    const char  *name;
} sd_dnsw_types[] = {
    { SD_DNS_T_A, "A" }, { SD_DNS_T_NS, "NS" }, { SD_DNS_T_CNAME, "CNAME" },
    { SD_DNS_T_SOA, "SOA" }, { SD_DNS_T_MX, "MX" }, { SD_DNS_T_TXT, "TXT" },
    { SD_DNS_T_AAAA, "AAAA" }, { 0, NULL }
};


const char *
sd_dnsw_type_name(unsigned type)
{
    size_t  i;

    for (i = 0; sd_dnsw_types[i].name; i++) {
        if (sd_dnsw_types[i].type == type) {
            return sd_dnsw_types[i].name;
        }
    }

    return "TYPE";
}


unsigned
sd_dnsw_type_value(const char *name)
{
    size_t  i;

    for (i = 0; sd_dnsw_types[i].name; i++) {
        if (strcmp(sd_dnsw_types[i].name, name) == 0) {
            return sd_dnsw_types[i].type;
        }
    }

    return 0;
}
