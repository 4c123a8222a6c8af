# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The background refresher: rows turn Verified by themselves, one worker
# polls at a time (lease), throttling slows it down without losing
# anything, and it is taken over when its worker dies or nginx reloads.
#
# TEST 3 is skipped under valgrind: it needs 10 of its 12 adds due in one
# refresher tick (1 s), and under valgrind the 12 adds alone take longer
# than that, so the rows come due a few at a time and are each asked with
# a Get.  It runs everywhere else (prove, ASan, the version matrix).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes qw(sleep);

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_refresh_interval 1s;');
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();
check_accum_error_log();

sub api { SdTest::api(@_) }

# Adds identities in parallel, early in a second: rows are first due one
# refresh interval (1 s) after they were added, counted in whole seconds,
# so rows added within one second are due at the same tick, however slow
# the machine (ASan, valgrind, load) makes each add.
sub add_at_once {
    my @ids = @_;
    my $t = Time::HiRes::time();
    sleep 1.02 - ($t - int $t);
    SdTest::wait_pids(SdTest::background(SdTest::server_root() . "/html/add",
        map { [POST => '/api/', qq({"identity":"$_"}),
               {'X-WS' => 'acme', 'X-Role' => 'admin',
                'X-Plan' => 'professional'}] } @ids));
}

# Polls one row until its JSON matches (the refresher got to it), for up
# to 30 s: on a slow machine the first poll may take more than a tick.
sub wait_for {
    my ($id, $re) = @_;
    my $deadline = time + 30;
    while (time < $deadline) {
        my ($st, $body) = api(GET => "/$id");
        return 1 if $st == 200 && $body =~ $re;
        sleep 0.2;
    }
    return 0;
}

# Polls the simulator's call log until a call of this action matches, for
# up to 30 s (the refresher's first tick may be late on a slow machine).
sub wait_for_call {
    my ($action, $re) = @_;
    my $deadline = time + 30;
    while (time < $deadline) {
        my $body = SdTest::sim(GET => "/calls?action=$action");
        return 1 if $body =~ $re;
        sleep 0.2;
    }
    return 0;
}

sub refresher_pids {
    open my $fh, '<', SdTest::server_root() . '/logs/error.log' or return;
    my %p;
    while (<$fh>) { $p{$1}++ if /sender_domains: worker (\d+) runs the refresher/ }
    return sort keys %p;
}

# Whether the error log has a line matching RE.
sub log_has {
    my $re = shift;
    open my $fh, '<', SdTest::server_root() . '/logs/error.log' or return 0;
    while (<$fh>) { return 1 if $_ =~ $re }
    return 0;
}

# What the module says of an identity deleted from SES behind its back.
our $GONE = "Amazon SES no longer has this identity (it was deleted "
            . "outside this module); the next refresh adds it again.";

run_tests();

__DATA__

=== TEST 1: publish the records, make no refresh call: the row turns verified by itself
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
::wait_for('acme.com', qr/"verified_for_sending":true/);
--- request eval
[
"GET /api/acme.com",
"GET /sim/calls",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"dkim_status":"verified","mail_from_status":"verified","verified_for_sending":true,.*"last_checked_at":"20[^"]+","next_check_at":"20[^"]+"/,
qr/^(?!.*"path": "\/api).*GetEmailIdentity/s,
]
--- error_log
sender_domains: workspace "acme" identity "acme.com": DKIM pending -> verified
sender_domains: workspace "acme" identity "acme.com": MAIL FROM pending -> verified



=== TEST 2: SES throttling slows the poll, is logged once, and nothing is lost
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com"}');
::api(POST => '/', '{"identity":"beta.example"}');
SdTest::sim(POST => '/faults', '{"count":3,"kind":"429","match":"GetEmailIdentity"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"beta.example"}');
# until SES has throttled a poll and the module has said so (polling then
# pauses for 30 s)
SdTest::wait_until(30, sub {
    SdTest::sim(GET => '/calls?action=GetEmailIdentity') =~ /"status": 429/
    && ::log_has(qr/SES is throttling calls/);
});
--- request eval
[
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- response_body_like eval
qr/"identity":"acme\.com",.*"state":"ready","dkim_status":"(pending|verified)".*"identity":"beta\.example",.*"state":"ready"/
--- grep_error_log eval: qr/SES is throttling calls/
--- grep_error_log_out
SES is throttling calls



=== TEST 3: many rows due that a List can settle: one ListEmailIdentities call instead of a Get per row
--- skip_eval
8: $ENV{TEST_NGINX_USE_VALGRIND}
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::add_at_once(map { "r\@d$_.example" } 1 .. 12);
SdTest::sim(DELETE => '/calls');
SdTest::sim(POST => '/click', '{"identity":"r@d1.example"}');
::wait_for('r%40d1.example', qr/"verified_for_sending":true/);
--- request eval
[
"GET /sim/calls",
"GET /sim/calls?action=GetEmailIdentity",
"GET /api/r%40d1.example",
"GET /api/r%40d2.example",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/ListEmailIdentities/,
qr/^(?!.*"identity": "r\@d(?!1\.)).*"identity": "r\@d1\.example"/s,
qr/"verified_for_sending":true/,
qr/"verified_for_sending":false/,
]



=== TEST 4: rows whose MAIL FROM is pending need a Get anyway: no List call
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', qq({"identity":"d$_.example"})) for 1 .. 12;
SdTest::sim(DELETE => '/calls');
::wait_for_call('GetEmailIdentity', qr/"identity": "d12\.example"/);
--- request eval
[
"GET /sim/calls?action=GetEmailIdentity",
"GET /sim/calls?action=ListEmailIdentities",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"identity": "d12\.example"/,
qr/^\[\]$/,
]



=== TEST 5: removed DNS records: the row turns back and the resolver stops using it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
::wait_for('acme.com', qr/"verified_for_sending":true/);
SdTest::sim(POST => '/dns/unpublish', '{"identity":"acme.com"}');
SdTest::sim(POST => '/clock', '{"advance":270000}');
--- request eval
[
"GET /api/resolve?from=reports%40acme.com",
"POST /api/acme.com/refresh",
"GET /api/resolve?from=reports%40acme.com",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr/"source":"domain","fallback":false/,
qr/"dkim_status":"failed","mail_from_status":"[a-z_]+","verified_for_sending":false/,
qr/"source":"default","fallback":true,"reason":"not_verified"/,
]



=== TEST 6: an identity deleted in SES, found by the refresher: the refresh after that adds it again with its MAIL FROM
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com","mail_from_subdomain":"bounce"}');
SdTest::sim(POST => '/reset', '{}');
::wait_for('acme.com', qr/"state":"creating"/)
    or die "the refresher did not notice the identity is gone";
--- request eval
[
"GET /api/acme.com",
"POST /api/acme.com/refresh",
"GET /sim/calls?action=PutEmailIdentityMailFromAttributes",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr//,
qr/"state":"ready",.*"mail_from_status":"pending".*"mail_from_domain":"bounce\.acme\.com"/,
qr/^\[\s*\{[^\[\]]*"identity":\s*"acme\.com"[^\[\]]*\}\s*\]$/s,
]
--- response_json eval
[
{state => 'creating', mail_from_status => 'not_configured',
 mail_from_domain => undef,
 last_error => {code => 'ses_error', message => $::GONE}},
undef,
undef,
]
--- error_log eval
qr/\[warn\].*sender_domains: workspace "acme" identity "acme\.com" is gone from SES/
