# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The DNS ownership proof (issue 13 section 1, issue 17): a domain already
# verified in the shared SES account, not by this workspace's claim, is
# stored "ownership":"unproven" with a per-workspace TXT record to publish
# (_sender-domains.<domain> "sd-verify=<token>"), sends nothing until DNS
# shows that record (checked by POST /refresh and by the refresher, with a
# real DNS server: Knot), and never lets a workspace block the real owner.
# On the module before this change every add here answered 409
# registered_outside and stored nothing.

use lib 't/lib';
use SdKnot zones => [qw(own-a.test own-b.test own-c.test own-bg.test
                        own-race.test own-both.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

repeat_each(1);
no_shuffle();

our $one = "X-WS: one\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
our $two = "X-WS: two\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
our $three = "X-WS: three\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json";
our $member = "X-WS: one\nX-Role: member\nX-Plan: professional";

# Seeds $domain as verified in SES (created outside the module), adds it
# from workspace $ws and returns its ownership token.
sub add_unproven {
    my ($domain, $ws) = @_;
    my ($st, $b) = SdTest::api(POST => '/',
                               qq({"identity":"$domain","type":"domain"}),
                               $ws);
    die "add $domain as $ws: $st $b" unless $st == 201;
    my ($token) = $b =~ /"name":"_sender-domains\.\Q$domain\E","value":"sd-verify=([a-z2-7]{32})"/;
    die "add $domain as $ws: no ownership record in $b" unless $token;
    return $token;
}

sub seed {
    SdTest::sim(POST => '/seed', qq({"identity":"$_[0]","verified":true}));
}

# the API, the metrics, and the error log as the operator reads it
sub metrics_config {
    return SdTest::api_config() . <<'CONF';
    location = /metrics {
        sender_domains_metrics;
    }
    location = /error.log {
        alias $TEST_NGINX_SERVER_ROOT/logs/error.log;
    }
CONF
}

sub hooks_config {
    return metrics_config() . SdTest::hook_locations();
}

# the blocks' configuration: the resolver is the test's Knot server
our $HttpConfig = SdTest::http_config(
    'sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;');
our $Config = metrics_config();

run_tests();

__DATA__

=== TEST 1: a domain verified in SES outside the module: stored unproven with its TXT record, resolves to the default with ownership_unproven
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
main::seed('own-a.test');
--- request eval
[
"POST /api/
{\"identity\":\"own-a.test\",\"type\":\"domain\"}",
"GET /api/own-a.test",
"GET /api/resolve?from=ceo\@own-a.test",
"GET /api/own-a.test/dns",
"POST /api/own-a.test/refresh",
"GET /error.log",
]
--- more_headers eval
[$::one, $::one, $::one, $::one, $::one, ""]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/^(?=.*"identity":"own-a\.test")(?=.*"origin":"adopted")(?=.*"verified_for_sending":false)(?=.*"ownership":"unproven")(?=.*"dns_records":\[\{"group":"ownership","requirement":"required","type":"TXT","name":"_sender-domains\.own-a\.test","value":"sd-verify=[a-z2-7]{32}","explanation":"own-a\.test is already verified in the platform's Amazon SES account, so its status does not show that it is yours\. Add this TXT record)(?!.*_ownership_token)/s,
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)(?=.*"claim_expires_at":"20)/s,
qr/^\{"from":"Platform Reports <reports\@platform\.example>","address":"reports\@platform\.example","source":"default","fallback":true,"reason":"ownership_unproven"/,
qr/"group":"ownership","requirement":"required","type":"TXT","name":"_sender-domains\.own-a\.test","value":"sd-verify=[a-z2-7]{32}",[^}]*"verdict":"missing","reason":"not_found","diagnosis":"DNS has no ownership record at _sender-domains\.own-a\.test yet\./,
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)/s,
qr/\[info\] .*sender_domains: workspace "one" added "own-a\.test", verified in SES outside the workspace: ownership unproven until the TXT record _sender-domains\.own-a\.test is found/,
]



=== TEST 2: a wrong token and another workspace's token prove nothing
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
main::seed('own-b.test');
my $t1 = main::add_unproven('own-b.test', 'one');
my $t2 = main::add_unproven('own-b.test', 'two');
Test::More::isnt($t1, $t2, 'each workspace gets its own token');
(my $typo = $t1) =~ s/.$/$& eq 'a' ? 'b' : 'a'/e;
SdKnot::zone('own-b.test', qq(_sender-domains TXT "sd-verify=$t2"\n)
                           . qq(_sender-domains TXT "sd-verify=$typo"\n));
--- request eval
[
"POST /api/own-b.test/refresh",
"GET /api/resolve?from=ceo\@own-b.test",
"GET /api/own-b.test/dns",
"GET /error.log",
]
--- more_headers eval
[$::one, $::one, $::one, ""]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/^(?=.*"ownership":"unproven")(?=.*"verified_for_sending":false)(?=.*"state":"ready")/s,
qr/"source":"default","fallback":true,"reason":"ownership_unproven"/,
qr/"group":"ownership",[^}]*"verdict":"wrong","reason":"ownership_token_mismatch","diagnosis":"The TXT record at _sender-domains\.own-b\.test carries another sd-verify value than the one made for your workspace/,
qr/\A(?!.*proved control)/s,
]



=== TEST 3: the right token (split into two strings by the provider) proves it on refresh: verified for this workspace, sends as itself
--- http_config eval
SdTest::http_config(<<'HTTP')
    sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;
HTTP
--- config eval
main::metrics_config()
--- init
SdTest::sim_reset();
main::seed('own-c.test');
my $t = main::add_unproven('own-c.test', 'one');
my ($a, $b) = (substr($t, 0, 10), substr($t, 10));
SdKnot::zone('own-c.test', qq(_sender-domains TXT "sd-verify=$a" "$b"\n));
--- request eval
[
"GET /api/resolve?from=ceo\@own-c.test",
"POST /api/own-c.test/refresh",
"GET /api/resolve?from=ceo\@own-c.test",
"GET /api/own-c.test",
"GET /metrics",
"GET /error.log",
]
--- more_headers eval
[$::member, $::member, $::member, $::one, "", ""]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/"fallback":true,"reason":"ownership_unproven"/,
qr/^(?=.*"ownership":"proven")(?=.*"verified_for_sending":true)(?=.*"claim_expires_at":null)(?!.*"group":"ownership")/s,
qr/^\{"from":"ceo\@own-c\.test","address":"ceo\@own-c\.test","source":"domain","fallback":false/,
qr/^(?=.*"ownership":"proven")(?=.*"verified_for_sending":true)/s,
qr/^sender_domains_ownership_checks_total\{result="proven"\} 1$/m,
qr/\[info\] .*sender_domains: workspace "one" proved control of "own-c\.test" \(TXT _sender-domains\.own-c\.test found\): ownership proven/,
]



=== TEST 4: the refresher proves it by itself in the background: logged, counted, sent as an identity.ownership_proven webhook
--- http_config eval
SdTest::hook_http_config(<<'HTTP')
    sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;
    sender_domains_refresh_interval 1s;
HTTP
--- config eval
main::hooks_config()
--- user_files
>>> wh.secret
whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
--- init
SdTest::sim_reset();
main::seed('own-bg.test');
my $t = main::add_unproven('own-bg.test', 'one');
SdKnot::zone('own-bg.test', qq(_sender-domains TXT "sd-verify=$t"\n));
Test::More::ok(SdTest::wait_until(30, sub {
    my ($st, $b) = SdTest::api(GET => '/own-bg.test', undef, 'one');
    $b =~ /"ownership":"proven"/;
}), 'the refresher proved it without a request');
SdTest::wait_until(30, sub {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/hooks.log');
    $b =~ /identity\.ownership_proven/;
});
--- request eval
[
"GET /api/own-bg.test",
"GET /api/resolve?from=ceo\@own-bg.test",
"GET /metrics",
"GET /hooks.log",
"GET /error.log",
]
--- more_headers eval
[$::one, $::one, "", "", ""]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[
qr/^(?=.*"ownership":"proven")(?=.*"verified_for_sending":true)/s,
qr/"source":"domain","fallback":false/,
qr/^sender_domains_ownership_checks_total\{result="proven"\} 1$/m,
qr/^\{"type":"identity\.ownership_proven","id":"evt_\d+","created_at":"[^"]+","workspace":"one","identity":\{"identity":"own-bg\.test"[^\n]*"ownership":"proven"/m,
qr/\[info\] .*sender_domains: workspace "one" proved control of "own-bg\.test"/,
]



=== TEST 5: unproven rows never block: two workspaces hold one each, the real owner proves first and takes the claim, the other fails with a neutral reason
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
main::seed('own-race.test');
my $t1 = main::add_unproven('own-race.test', 'one');
my $t2 = main::add_unproven('own-race.test', 'two');
main::add_unproven('own-race.test', 'three');
SdKnot::zone('own-race.test', qq(_sender-domains TXT "sd-verify=$t2"\n));
--- request eval
[
"POST /api/own-race.test/refresh",
"POST /api/own-race.test/refresh",
"GET /api/resolve?from=ceo\@own-race.test",
"GET /api/resolve?from=ceo\@own-race.test",
"POST /api/
{\"identity\":\"mail.own-race.test\",\"type\":\"domain\"}",
"DELETE /api/own-race.test",
"POST /api/
{\"identity\":\"own-race.test\",\"type\":\"domain\"}",
"GET /error.log",
]
--- more_headers eval
[$::two, $::one, $::one, $::two, $::three, $::three, $::three, ""]
--- error_code eval
[200, 200, 200, 200, 409, 204, 409, 200]
--- response_body_like eval
[
qr/^(?=.*"ownership":"proven")(?=.*"verified_for_sending":true)/s,
qr/^(?=.*"state":"failed")(?=.*"verified_for_sending":false)(?=.*"last_error":\{"code":"claimed_elsewhere","message":"Another workspace has proved that it controls this domain's DNS, so this sender no longer counts here\.)(?!.*"two")/s,
qr/"source":"default","fallback":true/,
qr/"source":"domain","fallback":false/,
qr/"code":"already_registered"/,
qr/^$/,
qr/"code":"already_registered"/,
qr/\[notice\] .*sender_domains: workspace "one" identity "own-race\.test": another workspace proved control first; the row failed \(claimed_elsewhere\)/,
]



=== TEST 6: both workspaces publish their token and refresh at once: exactly one proves, the other fails
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
main::seed('own-both.test');
my $t1 = main::add_unproven('own-both.test', 'one');
my $t2 = main::add_unproven('own-both.test', 'two');
SdKnot::zone('own-both.test', qq(_sender-domains TXT "sd-verify=$t1"\n)
                              . qq(_sender-domains TXT "sd-verify=$t2"\n));
my $f = SdTest::server_root() . '/logs/race';
my %h = ('X-Role' => 'admin', 'X-Plan' => 'professional');
SdTest::wait_pids(SdTest::background($f,
    [POST => '/api/own-both.test/refresh', '', {%h, 'X-WS' => 'one'}],
    [POST => '/api/own-both.test/refresh', '', {%h, 'X-WS' => 'two'}]));
my @r = map { local $/; open my $fh, '<', "$f.$_" or die; <$fh> } 0, 1;
my (undef, $b1) = SdTest::api(GET => '/own-both.test', undef, 'one');
my (undef, $b2) = SdTest::api(GET => '/own-both.test', undef, 'two');
my $now = grep { /"ownership":"proven"/ && /"verified_for_sending":true/ } $b1, $b2;
my $lost = grep { /"code":"claimed_elsewhere"/ } $b1, $b2;
Test::More::is($now, 1, 'exactly one workspace holds it proven');
# the loser learns it at once or at its next check
SdTest::api(POST => '/own-both.test/refresh', '', $_) for qw(one two);
(undef, $b1) = SdTest::api(GET => '/own-both.test', undef, 'one');
(undef, $b2) = SdTest::api(GET => '/own-both.test', undef, 'two');
Test::More::is(scalar(grep { /"code":"claimed_elsewhere"/ } $b1, $b2), 1,
               'the other one failed with claimed_elsewhere');
--- request
GET /metrics
--- error_code: 200
--- response_body_like eval
qr/^sender_domains_ownership_checks_total\{result="proven"\} 1\n(?:.*\n)*sender_domains_ownership_checks_total\{result="lost"\} 1$/m
