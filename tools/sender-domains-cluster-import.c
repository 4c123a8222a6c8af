/* Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE. */
/*
 * sender-domains-cluster-import: a single-node store (LMDB) into etcd,
 * for the switch to cluster mode (issue 18, docs/cluster.md "Migration and
 * backup").  The Debian package installs it in /usr/sbin.
 *
 *   sender-domains-cluster-import --db PATH
 *       --endpoints http://a:2379,http://b:2379
 *       [--prefix /sender-domains/v1/] [--dry-run]
 *       [--cacert FILE] [--cert FILE --key FILE]
 *
 * --cacert, --cert and --key (etcdctl's names) are TLS to https://
 * endpoints, as the module's sender_domains_cluster_ssl_trusted_certificate,
 * _ssl_certificate and _ssl_certificate_key: the CAs that verify etcd
 * (without it the system's), the client certificate and its key for
 * etcd's --client-cert-auth.  The files are checked before any call (PEM,
 * the key the certificate's, no passphrase) and handed to libcurl as
 * read; with any of them every endpoint must be https://.
 *
 * Every identity row, then every legacy row, goes to etcd with the claim
 * Txn the API's add sends (its nested shape when the workspace's own names
 * are in the way), so etcd's tree exclusivity decides as it does for an
 * add; a row that holds no claim in the store (failed, unproven, or a
 * name another workspace took over) goes without one.  Idempotent: a row
 * etcd has for the same workspace is "already there".  A conflict
 * (another workspace holds the name, a parent or something under it) is
 * reported, never forced.  Once every row is in etcd the store gets meta
 * "cluster_imported", so a node in cluster mode on it may resync.
 *
 * One line per row, then a summary.  Exit 0: done; 1: it could not run
 * (usage, the store, etcd unreachable); 2: rows not imported (conflicts).
 *
 * A command-line tool, not nginx: the pure core (src/core) and libcurl's
 * blocking easy interface.  The store is opened with LMDB's locks, so no
 * single-node nginx may write to it meanwhile (stop it); a cluster-mode
 * node that waits for the import writes no rows and may stay up.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "sd_etcd.h"
#include "sd_store.h"
#include "sd_tls.h"


#define PROG  "sender-domains-cluster-import"


#define IMPORT_TRIES        5       /* RETRY / NESTED rounds per row */
#define IMPORT_ENDPOINTS    16

enum { DONE_IMPORTED = 0, DONE_THERE, DONE_CONFLICT, DONE_ERROR,
       DONE_UNREACHABLE };

static const char *outcome_word[] = {
    "imported", "already there", "CONFLICT", "ERROR", "UNREACHABLE"
};


typedef struct {
    char            kind;
    char           *ws;
    size_t          ws_len;
    char           *id;
    size_t          id_len;
    char           *json;
    size_t          json_len;
} row_t;


typedef struct {
    row_t          *rows;
    size_t          n;
    size_t          size;
    char            kind;
} rows_t;


/* a PEM file of --cacert, --cert, --key: its name and bytes */
typedef struct {
    const char     *path;
    char           *pem;
    size_t          len;
} pem_t;


typedef struct {
    CURL           *curl;
    char            error[CURL_ERROR_SIZE];
    char           *endpoints[IMPORT_ENDPOINTS];
    size_t          nendpoints;
    size_t          good;           /* the endpoint that answered last */
    const char     *prefix;
    int             dry_run;
    char           *body;           /* the last answer */
    size_t          body_len;
} importer_t;


static void
usage(void)
{
    fprintf(stderr,
        "usage: " PROG " --db PATH --endpoints URL[,URL...]\n"
        "           [--prefix " SD_ETCD_PREFIX_DEFAULT "] [--dry-run]\n"
        "           [--cacert FILE] [--cert FILE --key FILE]\n");
    exit(1);
}


static void *
xmemdup(const void *p, size_t n)
{
    char  *d;

    d = malloc(n + 1);
    if (d == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }

    memcpy(d, p, n);
    d[n] = '\0';

    return d;
}


/* a workspace id as printed: in quotes, odd bytes as \xNN */
static void
print_ws(FILE *f, const char *ws, size_t len)
{
    size_t         i;
    unsigned char  c;

    fputc('"', f);

    for (i = 0; i < len; i++) {
        c = (unsigned char) ws[i];

        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            fprintf(f, "\\x%02x", c);
        } else {
            fputc(c, f);
        }
    }

    fputc('"', f);
}


/* "<outcome> <kind> <workspace> <name>" (a conflict's line goes on) */
static void
print_row(int outcome, int dry_run, const row_t *r)
{
    printf("%-14s %-8s ", (dry_run && outcome == DONE_IMPORTED)
                          ? "would import" : outcome_word[outcome],
           r->kind == SD_ETCD_KIND_LEGACY ? "legacy" : "identity");
    print_ws(stdout, r->ws, r->ws_len);
    printf(" %.*s", (int) r->id_len, r->id);
}


/* ---- the store's rows, copied out of its read transaction ---- */

static int
collect(void *ctx, const char *ws, size_t ws_len, const char *id,
    size_t id_len, const sd_record_t *rec)
{
    row_t   *r;
    rows_t  *rs = ctx;

    if (rs->n == rs->size) {
        rs->size = rs->size ? rs->size * 2 : 256;
        rs->rows = realloc(rs->rows, rs->size * sizeof(row_t));

        if (rs->rows == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            exit(1);
        }
    }

    r = &rs->rows[rs->n++];
    r->kind = rs->kind;
    r->ws = xmemdup(ws, ws_len);
    r->ws_len = ws_len;
    r->id = xmemdup(id, id_len);
    r->id_len = id_len;
    r->json = xmemdup(rec->json, rec->json_len);
    r->json_len = rec->json_len;

    return 0;
}


/* ---- etcd, blocking ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *data)
{
    importer_t  *im = data;
    size_t       n = size * nmemb;
    char        *b;

    b = realloc(im->body, im->body_len + n + 1);
    if (b == NULL) {
        return 0;
    }

    memcpy(b + im->body_len, p, n);
    im->body = b;
    im->body_len += n;
    im->body[im->body_len] = '\0';

    return n;
}


/*
 * libcurl's detail; with TLS 1.3 etcd refuses a client certificate after
 * the handshake, and its reset may come before the first read: libcurl then
 * only says that the socket is no longer connected, or that sending the
 * request met the reset.
 */
static const char *
curl_why(importer_t *im, const char *url, CURLcode rc)
{
    if (strncmp(url, "https://", 8) == 0
        && ((rc == CURLE_SEND_ERROR
             && strstr(im->error, "reset by peer"))
            || ((rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR)
                && strstr(im->error, "getpeername"))))
    {
        return "etcd closed the connection right after the TLS handshake: "
               "did it refuse the client certificate (--cert, --key)?";
    }

    return im->error[0] ? im->error : "no detail";
}


/*
 * POSTs body to each endpoint from the last good one until one answers
 * below 500: 0 (im->body holds the answer, *status its HTTP status), or
 * -1 when none did.
 */
static int
post(importer_t *im, const char *path, const char *body, long *status)
{
    char      url[1024];
    size_t    i, e;
    CURLcode  rc;

    for (i = 0; i < im->nendpoints; i++) {
        e = (im->good + i) % im->nendpoints;
        snprintf(url, sizeof(url), "%s%s", im->endpoints[e], path);

        free(im->body);
        im->body = NULL;
        im->body_len = 0;

        curl_easy_setopt(im->curl, CURLOPT_URL, url);
        curl_easy_setopt(im->curl, CURLOPT_POSTFIELDS, body);
        im->error[0] = '\0';
        rc = curl_easy_perform(im->curl);

        if (rc != CURLE_OK) {
            /* the error buffer says more: which certificate, what alert */
            fprintf(stderr, PROG ": %s: %s (%s)\n", url,
                    curl_easy_strerror(rc), curl_why(im, url, rc));
            continue;
        }

        curl_easy_getinfo(im->curl, CURLINFO_RESPONSE_CODE, status);

        if (*status >= 500) {
            fprintf(stderr, PROG ": %s: HTTP %ld\n", url,
                    *status);
            continue;
        }

        im->good = e;

        if (im->body == NULL) {
            im->body = xmemdup("", 0);
        }

        return 0;
    }

    return -1;
}


/*
 * One Txn: DONE_IMPORTED when etcd answered (txn parsed), DONE_ERROR for
 * an answer that is not a Txn's, DONE_UNREACHABLE.  A dry run sends the
 * Txn with an empty success branch: the same compares and verdict, no
 * write.
 */
static int
txn(importer_t *im, char *body, sd_etcd_txn_t *t)
{
    int      rc;
    long     status;
    json_t  *j;

    memset(t, 0, sizeof(sd_etcd_txn_t));

    if (body == NULL) {
        fprintf(stderr, PROG ": a key too long for etcd\n");
        return DONE_ERROR;
    }

    if (im->dry_run) {
        j = json_loads(body, 0, NULL);
        free(body);
        body = NULL;

        if (j != NULL && json_object_set_new(j, "success", json_array()) == 0)
        {
            body = json_dumps(j, JSON_COMPACT);
        }

        json_decref(j);

        if (body == NULL) {
            return DONE_ERROR;
        }
    }

    rc = post(im, "/v3/kv/txn", body, &status);
    free(body);

    if (rc != 0) {
        return DONE_UNREACHABLE;
    }

    if (status != 200
        || sd_etcd_parse_txn(im->body, im->body_len, t) != SD_ETCD_OK)
    {
        fprintf(stderr, PROG ": etcd answered HTTP %ld: %.200s\n",
                status, im->body);
        sd_etcd_txn_free(t);
        return DONE_ERROR;
    }

    return DONE_IMPORTED;
}


/* the row alone (own: its name is already this workspace's in etcd) */
static int
import_row_only(importer_t *im, const sd_etcd_claim_t *c, char kind, int own)
{
    int              rc;
    sd_etcd_txn_t    t;
    sd_etcd_claim_e  v;

    rc = txn(im, sd_etcd_import_row_txn(c, kind, own), &t);
    if (rc != DONE_IMPORTED) {
        return rc;
    }

    v = sd_etcd_import_row_verdict(&t);
    sd_etcd_txn_free(&t);

    return v == SD_ETCD_CLAIM_DONE ? DONE_IMPORTED
           : v == SD_ETCD_CLAIM_EXISTS ? DONE_THERE
           : v == SD_ETCD_CLAIM_RETRY ? -1
           : DONE_ERROR;
}


static void
report_holder(const importer_t *im, const sd_etcd_kv_t *h)
{
    char    name[SD_ETCD_KEY_MAX];
    size_t  name_len;

    printf(": ");

    if (h == NULL) {
        printf("another workspace holds a name under it\n");
        return;
    }

    if (sd_etcd_claim_name(im->prefix, h->key, h->key_len, name,
                           sizeof(name), &name_len)
        != 0)
    {
        name_len = snprintf(name, sizeof(name), "%.*s",
                            (int) (h->key_len > 200 ? 200 : h->key_len),
                            h->key);
    }

    printf("held by workspace ");
    print_ws(stdout, h->value, h->value_len);
    printf(" (claim on %.*s)\n", (int) name_len, name);
}


/*
 * One row: its claim Txn (nested shape, retries), or the row alone when it
 * holds no claim in the store.
 */
static int
import_one(importer_t *im, sd_store_t *st, const row_t *r)
{
    int                  rc, nested, tries;
    sd_etcd_txn_t        t, first;
    sd_etcd_claim_t      c;
    sd_etcd_claim_e      v;
    const sd_etcd_kv_t  *holder;

    c.prefix = im->prefix;
    c.ws = r->ws;
    c.ws_len = r->ws_len;
    c.id = r->id;
    c.id_len = r->id_len;
    c.row = r->json;
    c.row_len = r->json_len;

    if (!sd_store_claim_held(st, r->ws, r->ws_len, r->id, r->id_len)) {
        rc = import_row_only(im, &c, r->kind, 0);
        return rc < 0 ? DONE_ERROR : rc;
    }

    nested = 0;
    memset(&first, 0, sizeof(sd_etcd_txn_t));
    rc = DONE_ERROR;

    for (tries = 0; tries < IMPORT_TRIES; tries++) {
        rc = txn(im, sd_etcd_import_claim_txn(&c, r->kind,
                                              nested ? &first : NULL), &t);
        if (rc != DONE_IMPORTED) {
            break;
        }

        v = sd_etcd_import_verdict(&c, r->kind, &t, nested ? &first : NULL,
                                   &holder);

        if (v == SD_ETCD_CLAIM_NESTED) {
            /* only its own names in the way: the nested shape from t */
            sd_etcd_txn_free(&first);
            first = t;
            nested = 1;
            rc = DONE_ERROR;
            continue;
        }

        if (v == SD_ETCD_CLAIM_CONFLICT) {
            print_row(DONE_CONFLICT, 0, r);
            report_holder(im, holder);
            sd_etcd_txn_free(&t);
            rc = DONE_CONFLICT;
            break;
        }

        if (v == SD_ETCD_CLAIM_EXISTS && t.responses[0].nkvs == 0) {
            /* no row, the name is the workspace's through its other row */
            sd_etcd_txn_free(&t);
            rc = import_row_only(im, &c, r->kind, 1);

            if (rc >= 0) {
                break;
            }

            v = SD_ETCD_CLAIM_RETRY;

        } else {
            sd_etcd_txn_free(&t);
        }

        if (v == SD_ETCD_CLAIM_DONE || v == SD_ETCD_CLAIM_EXISTS) {
            rc = (v == SD_ETCD_CLAIM_DONE) ? DONE_IMPORTED : DONE_THERE;
            break;
        }

        rc = DONE_ERROR;

        if (v != SD_ETCD_CLAIM_RETRY) {
            break;
        }

        /* what was in the way is gone: from the first shape again */
        sd_etcd_txn_free(&first);
        memset(&first, 0, sizeof(sd_etcd_txn_t));
        nested = 0;
    }

    sd_etcd_txn_free(&first);

    return rc;
}


static void
parse_endpoints(importer_t *im, char *list)
{
    char    *p, *save;
    size_t   n;

    for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        n = strlen(p);

        while (n && p[n - 1] == '/') {
            p[--n] = '\0';
        }

        if (n == 0) {
            continue;
        }

        if (im->nendpoints == IMPORT_ENDPOINTS
            || (strncmp(p, "http://", 7) && strncmp(p, "https://", 8)))
        {
            fprintf(stderr, PROG ": bad endpoint \"%s\" (an "
                    "http:// or https:// URL, at most %d)\n", p,
                    IMPORT_ENDPOINTS);
            exit(1);
        }

        im->endpoints[im->nendpoints++] = p;
    }

    if (im->nendpoints == 0) {
        usage();
    }
}


/* reads a PEM file whole (up to max bytes); exits 1 when it cannot */
static void
read_pem(pem_t *f, const char *option, size_t max)
{
    FILE    *fp;
    size_t   n;

    fp = fopen(f->path, "rb");
    if (fp == NULL) {
        fprintf(stderr, PROG ": %s: cannot open \"%s\": %s\n",
                option, f->path, strerror(errno));
        exit(1);
    }

    f->pem = malloc(max + 1);
    if (f->pem == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }

    n = fread(f->pem, 1, max + 1, fp);

    if (ferror(fp) || n > max) {
        fprintf(stderr, PROG ": %s: \"%s\" cannot be read or "
                "is larger than %zu bytes\n", option, f->path, max);
        exit(1);
    }

    fclose(fp);
    f->pem[n] = '\0';
    f->len = n;
}


/*
 * --cacert, --cert, --key: read, checked as nginx -t checks the module's
 * files, and set on the handle (the same options as the module's etcd
 * client: these CAs only, the certificate and key as PEM in memory).
 */
static void
setup_tls(importer_t *im, pem_t *ca, pem_t *cert, pem_t *key)
{
    char               err[SD_TLS_ERR_LEN];
    size_t             i;
    struct curl_blob   blob;

    if (ca->path == NULL && cert->path == NULL && key->path == NULL) {
        return;
    }

    if ((cert->path == NULL) != (key->path == NULL)) {
        fprintf(stderr, PROG ": --cert and --key go together\n");
        exit(1);
    }

    for (i = 0; i < im->nendpoints; i++) {
        if (strncmp(im->endpoints[i], "https://", 8) != 0) {
            fprintf(stderr, PROG ": the endpoint \"%s\" is not "
                    "https://, but --cacert, --cert or --key is given: with "
                    "TLS every endpoint must be https://\n",
                    im->endpoints[i]);
            exit(1);
        }
    }

    blob.flags = CURL_BLOB_NOCOPY;

    if (ca->path) {
        read_pem(ca, "--cacert", SD_TLS_FILE_MAX);

        if (sd_tls_check_ca(ca->pem, ca->len, err, sizeof(err)) <= 0) {
            fprintf(stderr, PROG ": --cacert \"%s\": %s\n",
                    ca->path, err);
            exit(1);
        }

        blob.data = ca->pem;
        blob.len = ca->len;
        curl_easy_setopt(im->curl, CURLOPT_CAINFO_BLOB, &blob);
        curl_easy_setopt(im->curl, CURLOPT_CAPATH, NULL);
    }

    if (cert->path) {
        read_pem(cert, "--cert", SD_TLS_FILE_MAX);
        read_pem(key, "--key", SD_TLS_KEY_MAX);

        if (sd_tls_check_cert(cert->pem, cert->len, err, sizeof(err)) != 0) {
            fprintf(stderr, PROG ": --cert \"%s\": %s\n",
                    cert->path, err);
            exit(1);
        }

        if (sd_tls_check_pair(cert->pem, cert->len, key->pem, key->len, err,
                              sizeof(err))
            != 0)
        {
            fprintf(stderr, PROG ": --cert \"%s\" and --key "
                    "\"%s\": %s\n", cert->path, key->path, err);
            exit(1);
        }

        blob.data = cert->pem;
        blob.len = cert->len;
        curl_easy_setopt(im->curl, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(im->curl, CURLOPT_SSLCERT_BLOB, &blob);

        blob.data = key->pem;
        blob.len = key->len;
        curl_easy_setopt(im->curl, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(im->curl, CURLOPT_SSLKEY_BLOB, &blob);
    }
}


static sd_store_t *
open_store(const char *db)
{
    char          err[512];
    struct stat   sb;
    sd_store_t   *st;

    /* never create one: a wrong path is an error, not an empty import */
    if (stat(db, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, PROG ": no store at \"%s\": %s\n", db,
                errno ? strerror(errno) : "not a file");
        exit(1);
    }

    if (sd_store_check_format(db, 0, err, sizeof(err)) != SD_STORE_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        exit(1);
    }

    /* map size 0: the size the store was written with */
    if (sd_store_open(db, 0, &st, err, sizeof(err)) != SD_STORE_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        exit(1);
    }

    return st;
}


int
main(int argc, char **argv)
{
    int          i, rc, count[DONE_UNREACHABLE + 1];
    char        *db, *endpoints;
    size_t       k;
    rows_t       rows;
    pem_t        ca, cert, key;
    sd_store_t  *st;
    importer_t   im;
    struct curl_slist  *hdr;

    memset(&im, 0, sizeof(importer_t));
    memset(&ca, 0, sizeof(pem_t));
    memset(&cert, 0, sizeof(pem_t));
    memset(&key, 0, sizeof(pem_t));
    memset(&rows, 0, sizeof(rows_t));
    memset(count, 0, sizeof(count));
    db = NULL;
    endpoints = NULL;
    im.prefix = SD_ETCD_PREFIX_DEFAULT;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--endpoints") == 0 && i + 1 < argc) {
            endpoints = argv[++i];
        } else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            im.prefix = argv[++i];
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            im.dry_run = 1;
        } else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
            ca.path = argv[++i];
        } else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
            cert.path = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key.path = argv[++i];
        } else {
            usage();
        }
    }

    if (db == NULL || endpoints == NULL) {
        usage();
    }

    if (!sd_etcd_prefix_ok(im.prefix, strlen(im.prefix))) {
        fprintf(stderr, PROG ": bad prefix \"%s\" (it starts "
                "and ends with \"/\")\n", im.prefix);
        return 1;
    }

    parse_endpoints(&im, endpoints);
    st = open_store(db);

    rows.kind = SD_ETCD_KIND_ROW;
    rc = sd_store_each_all(st, collect, &rows);
    rows.kind = SD_ETCD_KIND_LEGACY;

    if (rc == SD_STORE_OK) {
        rc = sd_store_legacy_each_all(st, collect, &rows);
    }

    if (rc != SD_STORE_OK) {
        fprintf(stderr, PROG ": the store could not be read: "
                "%s\n", sd_store_strerror(st));
        return 1;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    im.curl = curl_easy_init();
    hdr = curl_slist_append(NULL, "Content-Type: application/json");

    if (im.curl == NULL || hdr == NULL) {
        fprintf(stderr, PROG ": libcurl could not start\n");
        return 1;
    }

    curl_easy_setopt(im.curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(im.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(im.curl, CURLOPT_WRITEDATA, &im);
    curl_easy_setopt(im.curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(im.curl, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(im.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(im.curl, CURLOPT_ERRORBUFFER, im.error);
    setup_tls(&im, &ca, &cert, &key);

    for (k = 0; k < rows.n; k++) {
        rc = import_one(&im, st, &rows.rows[k]);
        count[rc]++;

        if (rc == DONE_UNREACHABLE) {
            fprintf(stderr, PROG ": etcd is unreachable (every "
                    "endpoint failed); %zu of %zu rows done, run it again\n",
                    (size_t) (count[DONE_IMPORTED] + count[DONE_THERE]),
                    rows.n);
            return 1;
        }

        if (rc == DONE_CONFLICT) {
            continue;       /* its line is printed with the holder */
        }

        print_row(rc, im.dry_run, &rows.rows[k]);
        printf("\n");
    }

    printf("%zu rows: %d %s, %d already there, %d conflicts, %d errors\n",
           rows.n, count[DONE_IMPORTED],
           im.dry_run ? "to import" : "imported", count[DONE_THERE],
           count[DONE_CONFLICT], count[DONE_ERROR]);

    if (count[DONE_CONFLICT] || count[DONE_ERROR]) {
        printf("not marked imported: a cluster node on this store will not "
               "resync until every row is in etcd\n");
        return 2;
    }

    if (!im.dry_run) {
        if (sd_store_set_cluster_imported(st) != SD_STORE_OK) {
            fprintf(stderr, PROG ": the store could not be "
                    "marked imported: %s\n", sd_store_strerror(st));
            return 1;
        }

        printf("the store is marked imported: a node in cluster mode on it "
               "now reads the cluster\n");
    }

    curl_easy_cleanup(im.curl);
    curl_slist_free_all(hdr);
    sd_store_close(st);

    if (key.pem) {
        OPENSSL_cleanse(key.pem, key.len);
    }

    return 0;
}
