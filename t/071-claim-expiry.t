# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Tenant safety, claims held forever (issue 13, section 2, and the purge of
# section 3): every row that is not verified has a next step scheduled; a
# half-added row is finished by the refresher and says why it stopped; a
# claim that is not verified stops blocking other workspaces after SES's
# limits (shortened here with sender_domains_claim_expiry so a test can
# wait for them), the old row stays visible as "failed", and abandoned rows
# are purged after sender_domains_purge_after.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_refresh_interval 1s;');
our $Config = SdTest::api_config();

$::one = "X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
$::two = "X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
our @used = ($::one, $::two);

sub api { SdTest::api(@_) }

# waits until workspace WS's row NAME matches RE (the refresher's work)
sub wait_row {
    my ($ws, $name, $re, $secs) = @_;
    return SdTest::wait_until($secs // 15, sub {
        my ($st, $b) = api(GET => "/$name", undef, $ws);
        return $b =~ $re;
    });
}

sub log_has {
    my ($what) = @_;
    open my $fh, '<', SdTest::server_root() . '/logs/error.log' or return;
    local $/;
    my $log = <$fh>;
    return index($log, $what) >= 0;
}

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a half-added row (SES 503) says why, has a next step, and the refresher finishes it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults',
    '{"count":1,"kind":"503","match":"CreateEmailIdentity"}');
my ($st, $b) = main::api(POST => '/', '{"identity":"half.example"}', 'one');
die "add: $st $b" unless $st == 503;
my ($st2, $b2) = main::api(GET => '/half.example', undef, 'one');
$::half = $b2;
main::wait_row('one', 'half.example', qr/"state":"ready"/);
main::log_has('the refresher finished its creation') or die "no log line";
--- request eval
[
"GET /api/half.example",
"GET /sim/calls?action=PutEmailIdentityMailFromAttributes",
]
--- more_headers eval
[$::one, "Content-Type: application/json"]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/"state":"ready",.*"mail_from_domain":"pmail\.half\.example","origin":"created","ownership":"proven",.*"last_error":null/,
qr/"identity": "half\.example"/,
]



=== TEST 2: ... and while it waited, the row showed the error and the time of the next try
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults',
    '{"count":-1,"kind":"503","match":"CreateEmailIdentity"}');
main::api(POST => '/', '{"identity":"stuck.example"}', 'one');
--- request eval
["GET /api/stuck.example"]
--- more_headers eval
[$::one]
--- error_code eval
[200]
--- response_body_like eval
[qr/"state":"creating",.*"next_check_at":"20\d\d-[^"]+Z","claim_expires_at":"20\d\d-[^"]+Z",.*"last_error":\{"code":"ses_unavailable","message":"[^"]+"\}/]



=== TEST 3: no credentials: the 503 is recorded on the row (last_error), and a next step is scheduled
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- main_config
--- request eval
[
"POST /api/
{\"identity\":\"nocreds.example\"}",
"GET /api/nocreds.example",
]
--- more_headers eval
[$::one, $::one]
--- error_code eval
[503, 200]
--- response_body_like eval
[
qr/"code":"ses_unavailable"/,
qr/"state":"creating",.*"next_check_at":"20\d\d-[^"]+Z",.*"last_error":\{"code":"ses_unavailable","message":"Amazon SES cannot be reached: no AWS credentials are configured\."\}/,
]



=== TEST 4: SES marks it FAILED (72 h in SES's clock): the claim stops blocking at once, the new claimant wins
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
main::api(POST => '/', '{"identity":"gone.example"}', 'one');
SdTest::sim(POST => '/clock', '{"advance":260000}');
main::wait_row('one', 'gone.example', qr/"dkim_status":"failed"/);
--- request eval
[
"POST /api/
{\"identity\":\"gone.example\"}",
"GET /api/gone.example",
"GET /api/gone.example",
]
--- more_headers eval
[$::two, $::one, $::two]
--- error_code eval
[201, 200, 200]
--- response_body_like eval
[
qr/"identity":"gone\.example",.*"dkim_status":"pending",.*"origin":"created"/,
qr/"dkim_status":"failed",.*"purge_at":"20\d\d-[^"]+Z"/,
qr/"dkim_status":"pending"/,
]



=== TEST 5: a domain claim not verified in time stops blocking; the old row stays, failed, with the restart explanation
--- config eval: $::Config
--- http_config eval
SdTest::http_config("    sender_domains_refresh_interval 1s;\n    sender_domains_claim_expiry 2s 1s;")
--- init
SdTest::sim_reset();
main::api(POST => '/', '{"identity":"slow.example"}', 'one');
my ($st, $b) = main::api(POST => '/', '{"identity":"mail.slow.example"}', 'two');
die "not blocked: $st $b" unless $st == 409;
main::wait_row('one', 'slow.example', qr/"state":"failed"/);
main::log_has('claim expired unverified') or die "no log line";
--- request eval
[
"GET /api/slow.example",
"POST /api/
{\"identity\":\"mail.slow.example\"}",
"POST /api/slow.example/refresh",
"POST /api/
{\"identity\":\"slow.example\"}",
"GET /api/resolve?from=a\@slow.example",
]
--- more_headers eval
[$::one, $::two, $::one, $::one, $::one]
--- error_code eval
[200, 201, 200, 409, 200]
--- response_body_like eval
[
qr//,
qr/"identity":"mail\.slow\.example"/,
qr/"state":"failed"/,
qr/"code":"already_exists","message":"This sender is in your list, but its claim expired; remove it and add it again to restart\."/,
qr/"fallback":true/,
]
--- response_json eval
[
{state => 'failed', next_check_at => undef,
 claim_expires_at => qr/^20\d\d-.+Z$/,
 last_error => {code => 'claim_expired',
                message => 'This domain was not verified in time (Amazon '
                           . 'SES looks for its DNS records for 72 hours), '
                           . 'so the claim expired and another workspace '
                           . 'may now add it. To try again, remove this '
                           . 'sender, add it again and publish the new '
                           . 'records.'},
 purge_at => qr/^20/},
undef,
undef,
undef,
undef,
]



=== TEST 6: resends do not extend an address's claim beyond the domain limit from the add
--- config eval: $::Config
--- http_config eval
SdTest::http_config("    sender_domains_refresh_interval 1s;\n    sender_domains_claim_expiry 6s 3s;")
--- init
SdTest::sim_reset();
use Time::HiRes ();
use Time::Local ();
sub t { my @t = $_[0] =~ /(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)Z/;
        Time::Local::timegm($t[5], $t[4], $t[3], $t[2], $t[1] - 1, $t[0]) }
my ($as, $ab) = main::api(POST => '/', '{"identity":"ceo@slow.example"}', 'one');
my ($created) = $ab =~ /"created_at":"([^"]+)"/;
my ($first) = $ab =~ /"claim_expires_at":"([^"]+)"/;
# the link's 3 s from SES's answer (the same second as the claim, or the next)
die "first expiry $first created $created"
    unless t($first) - t($created) >= 3 && t($first) - t($created) <= 4;
my $rb;
for my $n (1 .. 3) {
    Time::HiRes::sleep(1.5);
    (my $rs, $rb) = main::api(POST => '/ceo@slow.example/resend-verification',
                              undef, 'one');
    die "resend: $rs $rb" unless $rs == 200;

    if ($n == 1) {
        # a resend holds the claim past the first link's 3 s
        my ($st, $b) = main::api(POST => '/', '{"identity":"ceo@slow.example"}',
                                 'two');
        die "not blocked: $st" unless $st == 409;
    }
}
my ($sent) = $rb =~ /"verification_email_sent_at":"([^"]+)"/;
my ($exp) = $rb =~ /"claim_expires_at":"([^"]+)"/;
# the last resend alone would hold it to sent + 3 s: the add's 6 s cap it
die "sent $sent, expires $exp, created $created"
    unless t($exp) == t($created) + 6 && t($sent) + 3 > t($exp);
main::wait_row('one', 'ceo@slow.example', qr/"state":"failed"/, 10);
--- request eval
[
"POST /api/
{\"identity\":\"ceo\@slow.example\"}",
"POST /api/ceo\@slow.example/resend-verification",
]
--- more_headers eval
[$::two, $::one]
--- error_code eval
[201, 409]
--- response_body_like eval
[
qr/"identity":"ceo\@slow\.example",.*"origin":"created"/,
qr/"code":"not_pending","message":"This sender's claim expired; remove it and add it again to restart\."/,
]



=== TEST 7: abandoned rows are purged after the grace period; the new holder's claim stays
--- config eval: $::Config
--- http_config eval
SdTest::http_config("    sender_domains_refresh_interval 1s;\n    sender_domains_claim_expiry 1s 1s;\n    sender_domains_purge_after 2s;")
--- init
SdTest::sim_reset();
main::api(POST => '/', '{"identity":"old.example"}', 'one');
main::wait_row('one', 'old.example', qr/"state":"failed"/);
main::api(POST => '/', '{"identity":"old.example"}', 'two');
# the new holder verifies: its claim holds for good
SdTest::sim(POST => '/dns/publish', '{"identity":"old.example"}');
main::wait_row('two', 'old.example', qr/"verified_for_sending":true/);
main::wait_row('one', 'old.example', qr/"code":"not_found"/);
main::log_has('abandoned row purged') or die "no log line";
--- request eval
[
"GET /api/old.example",
"GET /api/",
"POST /api/
{\"identity\":\"sub.old.example\"}",
]
--- more_headers eval
[$::one, $::one, $::one]
--- error_code eval
[404, 200, 409]
--- response_body_like eval
[
qr/"code":"not_found"/,
qr/"identities":\[\]/,
qr/"code":"already_registered"/,
]



=== TEST 8: the directives refuse limits longer than SES's own
--- http_config eval
SdTest::http_config("    sender_domains_claim_expiry 73h 24h;")
--- config
--- must_die
--- error_log
"sender_domains_claim_expiry" cannot be longer than Amazon SES's own limits



=== TEST 9: a domain whose MAIL FROM step failed (configuring_mail_from) is finished by the refresher
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
# two faults: the add's call and the refresher's first retry fail, so the
# GET below sees the half-added row even on a slow machine where the
# refresher (1 s interval) has already run once
SdTest::sim(POST => '/faults',
    '{"count":2,"kind":"503","match":"PutEmailIdentityMailFromAttributes"}');
my ($st, $b) = main::api(POST => '/', '{"identity":"mf.example"}', 'one');
die "add: $st $b" unless $st == 503 && $b =~ /ses_unavailable/;
my ($s2, $b2) = main::api(GET => '/mf.example', undef, 'one');
die "not half-added: $b2"
    unless $b2 =~ /"state":"configuring_mail_from",.*"next_check_at":"20/
           && $b2 =~ /"last_error":\{"code":"ses_unavailable"/;
main::wait_row('one', 'mf.example', qr/"state":"ready"/);
--- request eval
["GET /api/mf.example"]
--- more_headers eval
[$::one]
--- error_code eval
[200]
--- response_body_like eval
[qr/"state":"ready",.*"mail_from_status":"pending",.*"mail_from_domain":"pmail\.mf\.example","origin":"created",.*"last_error":null/]
