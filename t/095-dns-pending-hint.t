# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The refresher's DNS hint (issue 17): a domain SES still says Pending for
# sender_domains_dns_diagnose_after (1 h by default; 3 s here) after it
# was added gets its records looked up (Knot, a real DNS server) in the
# background, and the row's "dns_hint" carries the diagnosis summary and
# each record's explanation, which the card shows without the user asking;
# once SES verifies it, the hint goes.

use lib 't/lib';
use SdKnot zones => [qw(hint-twice.test hint-right.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

# the blocks' configuration: the resolver is the test's Knot server, and
# the hint's delay is 3 s instead of an hour
our $HttpConfig = SdTest::http_config(<<'_EOC_');
    sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;
    sender_domains_refresh_interval 1s;
    sender_domains_dns_diagnose_after 3s;
_EOC_
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

sub api { SdTest::api(@_) }

# the row's JSON once it matches $re (up to 30 s), else its last answer
sub wait_row {
    my ($id, $re) = @_;
    my $body = '';
    SdTest::wait_until(30, sub {
        (my $st, $body) = api(GET => "/$id");
        return $st == 200 && $body =~ $re;
    });
    return $body;
}

# a summary of the row's hint: "dkim STATUS, mail_from STATUS: verdict |
# summary" (or "...: no hint"), then per problem
# "  TYPE NAME VERDICT REASON: DIAGNOSIS"; "no hint" without one
sub hint {
    my ($body) = @_;
    require JSON::PP;
    my $j = JSON::PP::decode_json($body);
    my $out = "dkim $j->{dkim_status}, mail_from $j->{mail_from_status}: ";
    my $h = $j->{dns_hint} or return "${out}no hint\n";
    $out .= "$h->{verdict} | $h->{summary}\n";
    $out .= "  $_->{type} $_->{name} $_->{verdict} $_->{reason}: "
            . "$_->{diagnosis}\n" for @{ $h->{problems} };
    return $out;
}

# adds hint-twice.test, its DKIM names published with the domain twice
sub twice {
    SdTest::sim_reset();
    my ($t, $r) = SdKnot::add_domain('hint-twice.test');
    SdKnot::zone('hint-twice.test',
        join('', map { "$_._domainkey.hint-twice.test CNAME $_.dkim.amazonses.com.\n" } @$t)
        . join('', grep { !/_domainkey/ } split /^/m, SdKnot::right($t, $r)));
    return $t;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('more_headers', "X-WS: acme\nX-Role: admin\n"
                                      . "X-Plan: professional");
    $block->set_value('error_code', 200);
});

run_tests();

__DATA__

=== TEST 1: pending for less than the delay: no hint yet
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::twice();
--- request
GET /api/hint-twice.test
--- response_body_filters eval
\&main::hint
--- response_body
dkim pending, mail_from pending: no hint



=== TEST 2: still pending after the delay: the hint says the DKIM names have the domain twice, and what to type
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::twice();
main::wait_row('hint-twice.test', qr/"dns_hint":\{/);
--- request
GET /api/hint-twice.test
--- response_body_filters eval
\&main::hint
--- response_body_like eval
qr/\Adkim pending, mail_from pending: attention \| 3 records need attention: CNAME [a-z0-9]{32}\._domainkey\.hint-twice\.test: wrong \(domain_appended_twice\); .*\.
(  CNAME ([a-z0-9]{32})\._domainkey\.hint-twice\.test wrong domain_appended_twice: The record was found at \2\._domainkey\.hint-twice\.test\.hint-twice\.test: the domain is in the name twice, because your DNS provider adds "hint-twice\.test" to the name by itself\. Change the record's name to only "\2\._domainkey"\.
){3}\z/
--- error_log eval
qr/workspace "acme" identity "hint-twice\.test": still pending in SES; DNS: 3 records need attention/



=== TEST 3: the hint is in the card's list too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::twice();
main::wait_row('hint-twice.test', qr/"dns_hint":\{/);
--- request
GET /api/
--- response_body_like eval
qr/"identity":"hint-twice\.test".*"dns_hint":\{"verdict":"attention","summary":"3 records need attention: /s



=== TEST 4: published right and SES verifies it: the hint goes
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
my $t = main::twice();
main::wait_row('hint-twice.test', qr/"dns_hint":\{/);
SdKnot::zone('hint-twice.test', SdKnot::right($t, 'us-east-1'));
SdTest::sim(POST => '/dns/publish', '{"identity":"hint-twice.test"}');
SdTest::wait_until(30, sub {
    main::api(POST => '/hint-twice.test/refresh');
    my ($st, $b) = main::api(GET => '/hint-twice.test');
    return ($b =~ /"dkim_status":"verified"/ && $b =~ /"mail_from_status":"verified"/)
        || !Time::HiRes::sleep(0.5);
});
--- request
GET /api/hint-twice.test
--- response_body_filters eval
\&main::hint
--- response_body
dkim verified, mail_from verified: no hint



=== TEST 5: the records right but SES still pending: the hint says DNS is fine
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
my ($t, $r) = SdKnot::add_domain('hint-right.test');
SdKnot::zone('hint-right.test', SdKnot::right($t, $r));
main::wait_row('hint-right.test', qr/"dns_hint":\{/);
--- request
GET /api/hint-right.test
--- response_body_filters eval
\&main::hint
--- response_body
dkim pending, mail_from pending: ok | DNS shows every needed record as it should be.



=== TEST 6: an operator's typo in the delay is refused at nginx -t, not at the first poll
--- http_config eval
SdTest::http_config("    sender_domains_dns_diagnose_after soon;")
--- config eval: $::Config
--- must_die
--- error_log
"sender_domains_dns_diagnose_after" directive invalid value
