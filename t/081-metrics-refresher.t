# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The metrics of the background refresher, and what an operator's alert
# on "a verified sender's sends fall back" reads: the lost-verification
# counter and the not_verified fallbacks.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes qw(sleep);

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_refresh_interval 1s;');
our $Config = SdTest::api_config(<<'_EOC_');
    location = /metrics {
        sender_domains_metrics;
    }
_EOC_

# TESTs 3-4: the webhook goes to /hook on this server, which logs each
# event's body to hooks.log (served at /hooks.log) and answers 204
# (SdTest::hook_locations, SdTest::hook_http_config)
our $HooksConfig = $Config . SdTest::hook_locations();

repeat_each(1);
no_shuffle();

sub api { SdTest::api(@_) }

sub metrics {
    my ($st, $body) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/metrics');
    return $body;
}

# Reads the endpoint until the text matches, for up to 30 s.
sub wait_metrics {
    my $re = shift;
    my $deadline = time + 30;
    while (time < $deadline) {
        return 1 if metrics() =~ $re;
        sleep 0.2;
    }
    return 0;
}

run_tests();

__DATA__

=== TEST 1: the refresher's lease holder, ticks, polls and cycles
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
::wait_metrics(qr/^sender_domains_identities\{kind="domain",state="verified"\} 1$/m);
::wait_metrics(qr/^sender_domains_refresher_cycles_total [1-9]/m);
--- request
GET /metrics
--- error_code: 200
--- response_body_like eval
qr/^sender_domains_identities\{kind="domain",state="pending"\}\ 0\n
sender_domains_identities\{kind="domain",state="verified"\}\ 1\n
(?s:.*)^sender_domains_ses_calls_total\{op="GetEmailIdentity",outcome="ok"\}\ [1-9]\d*\n
(?s:.*)^sender_domains_refresher_lease_holder_pid\ [1-9]\d*\n
(?s:.*)^sender_domains_refresher_last_tick_timestamp_seconds\ 1[7-9]\d{8}\n
(?s:.*)^sender_domains_refresher_polls_total\{outcome="answered"\}\ [1-9]\d*\n
(?s:.*)^sender_domains_refresher_cycles_total\ [1-9]\d*\n
(?s:.*)^sender_domains_refresher_last_cycle_end_timestamp_seconds\ 1[7-9]\d{8}\n/mx
--- no_error_log
[error]



=== TEST 2: a verified sender that loses verification: counted, and its sends' fallbacks too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
# verified by this workspace's own claim (an identity SES had already
# would be registered_outside: issue 13)
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
::api(POST => '/acme.com/refresh');
::api(GET => '/resolve?from=r%40acme.com', undef, 'acme', 'service');
SdTest::sim(POST => '/status', '{"identity":"acme.com","dkim":"FAILED","verification":"FAILED"}');
::api(POST => '/acme.com/refresh');
--- request eval
[
"GET /api/resolve?from=r%40acme.com",
"GET /metrics",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"source":"default","fallback":true,"reason":"not_verified"/,
qr/^sender_domains_identities\{kind="domain",state="verified"\}\ 0\n
(?s:.*)^sender_domains_identities_verification_lost_total\ 1\n
(?s:.*)^sender_domains_resolves_total\{source="domain"\}\ 1\n
(?s:.*)^sender_domains_resolve_fallbacks_total\{reason="not_verified"\}\ 1\n/mx,
]



=== TEST 3: the refresher's resume of a half-added row is counted and sent as webhook events like other changes
--- http_config eval
SdTest::hook_http_config(<<'HTTP')
    sender_domains_refresh_interval 1s;
HTTP
--- config eval: $::HooksConfig
--- user_files
>>> wh.secret
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults',
    '{"count":1,"kind":"503","match":"CreateEmailIdentity"}');
::api(POST => '/', '{"identity":"half.example"}');
::wait_metrics(qr/^sender_domains_refresher_polls_total\{outcome="resumed"\} [1-9]/m);
SdTest::wait_until(30, sub {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/hooks.log');
    $b =~ /"type":"identity\.state_changed".*"state":"ready"/;
});
--- request eval
["GET /metrics", "GET /hooks.log"]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^sender_domains_refresher_polls_total\{outcome="resumed"\} [1-9]\d*$/m,
qr/"type":"identity\.added"(?s:.*)"type":"identity\.state_changed","id":"evt_\d+","created_at":"[^"]+","workspace":"acme","identity":\{"identity":"half\.example"[^\n]*"state":"(?:configuring_mail_from|ready)"/,
]



=== TEST 4: the purge of an abandoned row is counted and sent as an identity.removed event
--- http_config eval
SdTest::hook_http_config(<<'HTTP')
    sender_domains_refresh_interval 1s;
    sender_domains_claim_expiry 1s 1s;
    sender_domains_purge_after 2s;
HTTP
--- config eval: $::HooksConfig
--- user_files
>>> wh.secret
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"old.example"}');
::wait_metrics(qr/^sender_domains_refresher_polls_total\{outcome="purged"\} [1-9]/m);
SdTest::wait_until(30, sub {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/hooks.log');
    $b =~ /"type":"identity\.removed"/;
});
--- request eval
["GET /metrics", "GET /hooks.log"]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^sender_domains_refresher_polls_total\{outcome="purged"\} 1$/m,
qr/"type":"identity\.failed"(?s:.*)"type":"identity\.removed","id":"evt_\d+","created_at":"[^"]+","workspace":"acme","identity":\{"identity":"old\.example"/,
]
