# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# GET /{identity}/dns: the DKIM CNAMEs checked against a real DNS server
# (Knot, one zone per scenario), each mistake a user makes recognised with
# its verdict and reason, and the explanation saying what to type instead.

use lib 't/lib';
use SdKnot zones => [qw(dkim-ok.test dkim-twice.test dkim-proxied.test
                        dkim-typo.test dkim-other.test dkim-missing.test
                        dkim-value.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;');
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

# Adds $domain, then publishes what $make(tokens, region) returns.
sub scenario {
    my ($domain, $make) = @_;
    SdTest::sim_reset();
    my ($t, $region) = SdKnot::add_domain($domain);
    SdKnot::zone($domain, $make->($t, $region));
}

# the right records but the DKIM ones
sub dkim_rest {
    my ($t, $region) = @_;
    my $all = SdKnot::right($t, $region);
    $all =~ s/^\S+\._domainkey .*\n//mg;
    return $all;
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('more_headers', "X-WS: acme\nX-Role: admin\n"
                                      . "X-Plan: professional");
    $block->set_value('response_body_filters', \&SdKnot::summary);
    $block->set_value('error_code', 200);
});

run_tests();

__DATA__

=== TEST 1: every record published right: all ok
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-ok.test', \&SdKnot::right);
--- request
GET /api/dkim-ok.test/dns
--- response_body
zone ok match
dkim CNAME ok match
dkim CNAME ok match
dkim CNAME ok match
mail_from MX ok match
mail_from TXT ok match
dmarc TXT ok match
overall ok



=== TEST 2: the domain appended twice (x._domainkey.dkim-twice.test.dkim-twice.test): enter only x._domainkey
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-twice.test', sub {
    my ($t, $r) = @_;
    join('', map { "$_._domainkey.dkim-twice.test CNAME $_.dkim.amazonses.com.\n" } @$t)
    . main::dkim_rest($t, $r) });
--- request
GET /api/dkim-twice.test/dns
--- response_body_like eval
qr/\Azone ok match
(dkim CNAME wrong domain_appended_twice
  The record was found at ([a-z0-9]{32})\._domainkey\.dkim-twice\.test\.dkim-twice\.test: the domain is in the name twice, because your DNS provider adds "dkim-twice\.test" to the name by itself\. Change the record's name to only "\2\._domainkey"\.
  found: CNAME \2\.dkim\.amazonses\.com
){3}mail_from MX ok match
mail_from TXT ok match
dmarc TXT ok match
overall attention
\z/



=== TEST 3: a proxying provider flattened the CNAMEs into A / AAAA records: turn off the proxy
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-proxied.test', sub {
    my ($t, $r) = @_;
    "$t->[0]._domainkey A 104.16.1.1\n$t->[0]._domainkey A 104.16.1.2\n"
    . "$t->[1]._domainkey AAAA 2606:4700::1\n"
    . "$t->[2]._domainkey CNAME $t->[2].dkim.amazonses.com.\n"
    . main::dkim_rest($t, $r) });
--- request
GET /api/dkim-proxied.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME wrong proxied
  DNS answers [a-z0-9]{32}\._domainkey\.dkim-proxied\.test with IP addresses instead of a CNAME: your DNS provider proxies or flattens this record \(Cloudflare's orange cloud, for one\)\. Turn off the proxy for this record \("DNS only"\) so that it stays a CNAME pointing to [a-z0-9]{32}\.dkim\.amazonses\.com\.
  found: A 104\.16\.1\.1 \| A 104\.16\.1\.2
dkim CNAME wrong proxied
  .*
  found: AAAA 2606:4700:0:0:0:0:0:1
dkim CNAME ok match
/



=== TEST 4: a typo and a cut-off copy of the token: copy the value again
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-typo.test', sub {
    my ($t, $r) = @_;
    (my $typo = $t->[0]) =~ s/^(.)(.)/$2$1/;
    $typo = "q$typo" if $typo eq $t->[0];
    my $cut = substr($t->[1], 0, 20);
    "$t->[0]._domainkey CNAME $typo.dkim.amazonses.com.\n"
    . "$t->[1]._domainkey CNAME $cut.\n"
    . "$t->[2]._domainkey CNAME $t->[2].dkim.amazonses.com.\n"
    . main::dkim_rest($t, $r) });
--- request
GET /api/dkim-typo.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME wrong cname_typo
  [a-z0-9]{32}\._domainkey\.dkim-typo\.test points to [a-z0-9]{32,33}\.dkim\.amazonses\.com, which looks like a mistyped or shortened copy of the value\. Copy the value again: [a-z0-9]{32}\.dkim\.amazonses\.com\.
  found: CNAME [a-z0-9]+\.dkim\.amazonses\.com
dkim CNAME wrong cname_typo
  [a-z0-9]{32}\._domainkey\.dkim-typo\.test points to [a-z0-9]{20}, which looks like a mistyped or shortened copy of the value\. .*
  found: CNAME [a-z0-9]{20}
dkim CNAME ok match
/



=== TEST 5: another DKIM key (an earlier attempt's), and a CNAME to somewhere else
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-other.test', sub {
    my ($t, $r) = @_;
    "$t->[0]._domainkey CNAME zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.dkim.amazonses.com.\n"
    . "$t->[1]._domainkey CNAME mail.example.net.\n"
    . "$t->[2]._domainkey CNAME $t->[2].dkim.amazonses.com.\n"
    . main::dkim_rest($t, $r) });
--- request
GET /api/dkim-other.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME wrong cname_other_token
  [a-z0-9]{32}\._domainkey\.dkim-other\.test points to z{32}\.dkim\.amazonses\.com, another DKIM key than this identity's \(perhaps from an earlier attempt\)\. Change it to point to [a-z0-9]{32}\.dkim\.amazonses\.com\.
  found: CNAME z{32}\.dkim\.amazonses\.com
dkim CNAME wrong cname_elsewhere
  [a-z0-9]{32}\._domainkey\.dkim-other\.test points to mail\.example\.net instead of [a-z0-9]{32}\.dkim\.amazonses\.com\. Change the CNAME to point to [a-z0-9]{32}\.dkim\.amazonses\.com\.
  found: CNAME mail\.example\.net
dkim CNAME ok match
mail_from MX ok match
mail_from TXT ok match
dmarc TXT ok match
overall attention
\z/



=== TEST 6: nothing published: every record missing, what to add said
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-missing.test', sub { '' });
--- request
GET /api/dkim-missing.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME missing not_found
  DNS has no record at [a-z0-9]{32}\._domainkey\.dkim-missing\.test\. Add a CNAME record with this name pointing to [a-z0-9]{32}\.dkim\.amazonses\.com\.
  found: 
dkim CNAME missing not_found
.*
mail_from MX missing not_found
  DNS has no MX record at pmail\.dkim-missing\.test\. Add an MX record with this name, priority 10 and mail server feedback-smtp\.us-east-1\.amazonses\.com\.
  found: 
mail_from TXT missing not_found
  DNS has no SPF record at pmail\.dkim-missing\.test\. Add a TXT record with this name and the value v=spf1 include:amazonses\.com ~all
  found: 
dmarc TXT missing not_found
  DNS has no DMARC record at _dmarc\.dkim-missing\.test\. It is optional but recommended: add a TXT record with this name and the value v=DMARC1; p=none;
  found: 
overall attention
\z/s



=== TEST 7: the value without its final dot: the provider appended the domain to the value
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
main::scenario('dkim-value.test', sub {
    my ($t, $r) = @_;
    "$t->[0]._domainkey CNAME $t->[0].dkim.amazonses.com\n"
    . "$t->[1]._domainkey CNAME $t->[1].dkim.amazonses.com.\n"
    . "$t->[2]._domainkey CNAME $t->[2].dkim.amazonses.com.\n"
    . main::dkim_rest($t, $r) });
--- request
GET /api/dkim-value.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME wrong value_domain_appended
  [a-z0-9]{32}\._domainkey\.dkim-value\.test points to [a-z0-9]{32}\.dkim\.amazonses\.com\.dkim-value\.test: your DNS provider added "dkim-value\.test" to the value\. Enter the value with a final dot, "[a-z0-9]{32}\.dkim\.amazonses\.com\.", so that it is taken as a full name\.
  found: CNAME [a-z0-9]{32}\.dkim\.amazonses\.com\.dkim-value\.test
dkim CNAME ok match
dkim CNAME ok match
/
