/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * Custom Sender Domains for nginx: DNS answers in wire format (RFC 1035),
 * parsed into what the diagnosis needs (pure core, no nginx types).
 */


#ifndef _NGX_HTTP_SENDER_DOMAINS_DNSWIRE_H_INCLUDED_
#define _NGX_HTTP_SENDER_DOMAINS_DNSWIRE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define SD_DNS_T_A        1
#define SD_DNS_T_NS       2
#define SD_DNS_T_CNAME    5
#define SD_DNS_T_SOA      6
#define SD_DNS_T_MX       15
#define SD_DNS_T_TXT      16
#define SD_DNS_T_AAAA     28

#define SD_DNS_RCODE_NOERROR   0
#define SD_DNS_RCODE_SERVFAIL  2
#define SD_DNS_RCODE_NXDOMAIN  3
#define SD_DNS_RCODE_REFUSED   5

/* a name in presentation form, lower case, no root dot: at most 253 */
#define SD_DNSW_NAME_MAX   255
/* RDATA kept: a TXT's strings joined, or a name, or an address */
#define SD_DNSW_DATA_MAX   1024
#define SD_DNSW_RR_MAX     16
#define SD_DNSW_AUTH_NS_MAX  4
#define SD_DNSW_STRINGS_MAX  16


typedef struct {
    uint16_t        type;
    uint32_t        ttl;
    char            owner[SD_DNSW_NAME_MAX + 1];

    /*
     * CNAME, NS, MX: the target name (lower case, no root dot); A, AAAA:
     * the address as text; TXT: its character-strings joined as RFC 7208
     * joins them (no separator), raw bytes, NUL-terminated
     */
    char            data[SD_DNSW_DATA_MAX + 1];
    size_t          data_len;

    uint16_t        pref;                       /* MX */
    unsigned        nstrings;                   /* TXT */
    uint16_t        ends[SD_DNSW_STRINGS_MAX];  /* TXT: where each ends */
    unsigned        truncated:1;                /* data did not fit */
} sd_dnsw_rr_t;


typedef struct {
    unsigned        rcode;
    unsigned        truncated:1;        /* TC: the server had more */
    uint32_t        negative_ttl;       /* the authority SOA's minimum */
    int             has_soa;
    /*
     * the authority section's zone (the owner of its SOA or NS records:
     * the zone a negative answer came from, or the child zone of a
     * referral) and a referral's name servers
     */
    char            auth_zone[SD_DNSW_NAME_MAX + 1];
    unsigned        nauth_ns;
    char            auth_ns[SD_DNSW_AUTH_NS_MAX][SD_DNSW_NAME_MAX + 1];

    size_t          nrr;                /* the answer section, up to MAX */
    sd_dnsw_rr_t    rr[SD_DNSW_RR_MAX];
} sd_dnsw_answer_t;


/*
 * Parses a DNS response.  Only the answer section's records of the types
 * above are kept (others are skipped), at most SD_DNSW_RR_MAX; the
 * authority section gives the negative TTL.  Returns 0, or -1 when msg is
 * not a well-formed response (short, a loop of compression pointers, a
 * record running past the end, not a response).
 */
int sd_dnsw_parse(const unsigned char *msg, size_t len, sd_dnsw_answer_t *a);

/* the type's mnemonic ("CNAME"), or "TYPE" for others */
const char *sd_dnsw_type_name(unsigned type);

/* the type number of a mnemonic, 0 if unknown */
unsigned sd_dnsw_type_value(const char *name);


#endif /* _NGX_HTTP_SENDER_DOMAINS_DNSWIRE_H_INCLUDED_ */
