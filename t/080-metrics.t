# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# sender_domains_metrics serves the Prometheus text format (0.0.4): the
# counters move with what the module does.  Each block starts a fresh
# nginx and store, so every counter starts at zero; a block reads the
# endpoint before and after an action.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config(<<'_EOC_');
    location = /metrics {
        sender_domains_metrics;
    }
_EOC_

repeat_each(1);
no_shuffle();

# "CreateEmailIdentity timeouts T, calls between 0.5 s and 10 s: N" from
# the metrics text
sub timeout_summary {
    my ($b) = @_;
    my ($t) = $b =~ /^sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="timeout"\} (\d+)$/m;
    my ($half) = $b =~ /^sender_domains_ses_call_duration_seconds_bucket\{le="0\.5"\} (\d+)$/m;
    my ($ten) = $b =~ /^sender_domains_ses_call_duration_seconds_bucket\{le="10"\} (\d+)$/m;
    return "no such metrics in: $b" unless defined $t && defined $half && defined $ten;
    return "CreateEmailIdentity timeouts $t, calls between 0.5 s and 10 s: "
           . ($ten - $half);
}

run_tests();

__DATA__

=== TEST 1: the exposition format: content type, HELP and TYPE, zeros at start
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /metrics
--- error_code: 200
--- response_headers
Content-Type: text/plain; version=0.0.4
--- response_body_like eval
qr/\A\#\ HELP\ sender_domains_info\ [^\n]+\n\#\ TYPE\ sender_domains_info\ gauge\nsender_domains_info\{version="[0-9.]+"\}\ 1\n
(?s:.*)^\#\ TYPE\ sender_domains_identities\ gauge\n
(?:sender_domains_identities\{kind="(?:domain|email|legacy)",state="(?:pending|verified|failed)"\}\ 0\n){9}
(?s:.*)^sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="ok"\}\ 0\n
(?s:.*)^\#\ TYPE\ sender_domains_ses_call_duration_seconds\ histogram\n
(?:sender_domains_ses_call_duration_seconds_bucket\{le="[^"]+"\}\ 0\n){12}
sender_domains_ses_call_duration_seconds_sum\ 0\n
sender_domains_ses_call_duration_seconds_count\ 0\n
(?s:.*)^sender_domains_store_map_size_bytes\ 16777216\n
/mx
--- no_error_log
[error]



=== TEST 2: an add raises CreateEmailIdentity ok by one, the domains pending by one, add 2xx by one
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /metrics",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 201, 200]
--- response_body_like eval
[
qr/^sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="ok"\} 0$/m,
qr/"state":"ready"/,
qr/^sender_domains_identities\{kind="domain",state="pending"\}\ 1$
(?s:.*)^sender_domains_api_requests_total\{endpoint="add",code="2xx"\}\ 1$
(?s:.*)^sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="ok"\}\ 1$
(?s:.*)^sender_domains_ses_calls_total\{op="PutEmailIdentityMailFromAttributes",outcome="ok"\}\ 1$
(?s:.*)^sender_domains_ses_call_duration_seconds_count\ [1-9]\d*$/mx,
]
--- no_error_log
[error]



=== TEST 3: a throttled call counts as throttled, a 500 as error_5xx
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /sim/faults
[{\"count\":1,\"kind\":\"429\",\"match\":\"CreateEmailIdentity\"},{\"count\":1,\"kind\":\"500\",\"match\":\"CreateEmailIdentity\"}]",
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 503, 503, 200]
--- response_body_like eval
[
qr//,
qr/ses_/,
qr/ses_/,
qr/^sender_domains_api_requests_total\{endpoint="add",code="5xx"\}\ 2$
(?s:.*)^sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="ok"\}\ 0\n
sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="throttled"\}\ 1\n
sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="error_4xx"\}\ 0\n
sender_domains_ses_calls_total\{op="CreateEmailIdentity",outcome="error_5xx"\}\ 1\n/mx,
]



=== TEST 4: an SES call that times out counts as timeout, in the histogram above the timeout
--- config eval: $::Config
--- http_config eval
SdTest::http_config('sender_domains_ses_timeout 600ms;')
--- request eval
[
"POST /sim/faults
{\"count\":1,\"kind\":\"timeout\",\"match\":\"CreateEmailIdentity\",\"delay\":3}",
"POST /api/
{\"identity\":\"acme.com\"}",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 504, 200]
--- response_body_filters eval
# the timeout count, and how many calls the histogram puts between 0.5 s
# and 10 s (the timed-out call, 600 ms); counted as a difference of two
# buckets so that a resume of the half-added row by the refresher (fast
# calls, under 0.5 s; it happened under valgrind) does not change it
[[], [], [\&main::timeout_summary]]
--- response_body_like eval
[
qr//,
qr/ses_/,
qr/^CreateEmailIdentity timeouts 1, calls between 0\.5 s and 10 s: 1$/,
]



=== TEST 5: a fallback counts its reason; a resolve that answered counts its source
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy
[{\"address\":\"news\@acme.com\"}]",
"GET /api/resolve?from=reports%40nowhere.example",
"GET /api/resolve?from=not-an-address",
"GET /api/resolve?from=reports%40nowhere.example",
"GET /api/resolve?from=news%40acme.com",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
[
qr//,
qr/"reason":"not_registered"/,
qr/"reason":"invalid_address"/,
qr/"reason":"not_registered"/,
qr/"source":"legacy"/,
qr/^sender_domains_identities\{kind="legacy",state="verified"\}\ 1$
(?s:.*)^sender_domains_resolves_total\{source="address"\}\ 0\n
sender_domains_resolves_total\{source="domain"\}\ 0\n
sender_domains_resolves_total\{source="legacy"\}\ 1\n
sender_domains_resolves_total\{source="default"\}\ 3\n
(?s:.*)^sender_domains_resolve_fallbacks_total\{reason="invalid_address"\}\ 1\n
sender_domains_resolve_fallbacks_total\{reason="not_registered"\}\ 2\n
sender_domains_resolve_fallbacks_total\{reason="not_verified"\}\ 0\n
(?s:.*)^sender_domains_api_requests_total\{endpoint="legacy",code="2xx"\}\ 1$/mx,
]



=== TEST 6: the identities gauge follows verification and deletion
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/
{\"identity\":\"acme.com\"}",
"POST /sim/dns/publish
{\"identity\":\"acme.com\"}",
"POST /api/acme.com/refresh",
"POST /api/
{\"identity\":\"jo\@other.example\"}",
"GET /metrics",
"DELETE /api/acme.com",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[201, 200, 200, 201, 200, 204, 200]
--- response_body_like eval
[
qr/acme.com/,
qr/published/,
qr/"verified_for_sending":true/,
qr/jo\@other.example/,
qr/^sender_domains_identities\{kind="domain",state="pending"\}\ 0\n
sender_domains_identities\{kind="domain",state="verified"\}\ 1\n
sender_domains_identities\{kind="domain",state="failed"\}\ 0\n
sender_domains_identities\{kind="email",state="pending"\}\ 1\n/mx,
qr/^$/,
qr/^sender_domains_identities\{kind="domain",state="pending"\}\ 0\n
sender_domains_identities\{kind="domain",state="verified"\}\ 0\n
sender_domains_identities\{kind="domain",state="failed"\}\ 0\n
sender_domains_identities\{kind="email",state="pending"\}\ 1\n
(?s:.*)^sender_domains_api_requests_total\{endpoint="delete",code="2xx"\}\ 1$/mx,
]



=== TEST 7: only GET and HEAD
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /metrics
--- error_code: 405



=== TEST 8: sender_domains_metrics takes no argument
--- http_config eval: $::HttpConfig
--- config
    location = /metrics {
        sender_domains_metrics on;
    }
--- must_die
--- error_log
invalid number of arguments in "sender_domains_metrics" directive
