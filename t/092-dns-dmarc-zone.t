# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# GET /{identity}/dns: DMARC (none, yours kept, two in conflict, not a
# DMARC record), the zone itself (NXDOMAIN), a broken zone (SERVFAIL), a
# DNS server that never answers (timeout), and the endpoint's edges.

use lib 't/lib';
use IO::Socket::INET;
use SdKnot zones => [qw(dmarc-none.test dmarc-yours.test dmarc-two.test
                        dmarc-bad.test parent.test delegated.test)],
           broken => [qw(servfail.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;');
our $Config = SdTest::api_config();

# a DNS "server" that receives and never answers
our $Silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Proto => 'udp') or die "udp: $!";
$ENV{TEST_NGINX_SILENT_PORT} = $Silent->sockport;

repeat_each(1);
no_shuffle();
add_block_preprocessor(\&SdKnot::block_defaults);

run_tests();

__DATA__

=== TEST 1: no DMARC record: missing, recommended, and not counted as a problem
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('dmarc-none.test', sub {
    SdKnot::right_except(@_, qr/^_dmarc/) });
--- request
GET /api/dmarc-none.test/dns
--- response_body
zone ok match
dkim CNAME ok match
dkim CNAME ok match
dkim CNAME ok match
mail_from MX ok match
mail_from TXT ok match
dmarc TXT missing not_found
  DNS has no DMARC record at _dmarc.dmarc-none.test. It is optional but recommended: add a TXT record with this name and the value v=DMARC1; p=none;
  found: 
overall ok



=== TEST 2: a DMARC record of the user's own: ok, keep yours
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('dmarc-yours.test', sub {
    SdKnot::right_except(@_, qr/^_dmarc/)
    . qq(_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:d\@dmarc-yours.test"\n) });
--- request
GET /api/dmarc-yours.test/dns
--- response_body_like eval
qr/^dmarc TXT ok dmarc_present\noverall ok\n\z/m
--- response_body_filters eval
sub { local $ENV{SD_SUMMARY_ALL} = 1; my $s = SdKnot::summary($_[0]);
      $s =~ /already has a DMARC record of your own: keep yours, there is nothing to add/ or return "no keep-yours sentence\n$s";
      $s =~ s/^  .*\n//mg; $s }



=== TEST 3: two DMARC records: conflict
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('dmarc-two.test', sub {
    SdKnot::right(@_) . qq(_dmarc TXT "v=DMARC1; p=reject;"\n) });
--- request
GET /api/dmarc-two.test/dns
--- response_body_like eval
qr/^dmarc TXT conflict dmarc_multiple
  _dmarc\.dmarc-two\.test has 2 DMARC records; with more than one, mail servers ignore them all\. Keep exactly one \(yours, if you had one before\) and delete the others\.
  found: TXT "v=DMARC1; p=[a-z]+;" \| TXT "v=DMARC1; p=[a-z]+;"
overall attention
/m



=== TEST 4: a TXT at _dmarc that is not DMARC
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('dmarc-bad.test', sub {
    SdKnot::right_except(@_, qr/^_dmarc/) . qq(_dmarc TXT "p=none"\n) });
--- request
GET /api/dmarc-bad.test/dns
--- response_body_like eval
qr/^dmarc TXT wrong dmarc_invalid
  The TXT record at _dmarc\.dmarc-bad\.test is not a DMARC record \(it must start with v=DMARC1\)\. Replace it with a TXT record with the value v=DMARC1; p=none;
  found: TXT "p=none"
overall attention
/m



=== TEST 5: the domain itself does not exist (NXDOMAIN for the zone)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('parent.test', sub { '' });
SdKnot::add_domain('gone.parent.test');
--- request
GET /api/gone.parent.test/dns
--- response_body_like eval
qr/\Azone missing zone_not_found
  DNS says the domain gone\.parent\.test does not exist \(NXDOMAIN\): none of its records can be found\. Check the spelling of the domain, that it is registered and not expired, and that its name servers at the registrar are those of your DNS provider\.
  found: 
dkim CNAME missing zone_not_found
  DNS says the domain gone\.parent\.test does not exist \(NXDOMAIN\), so [a-z0-9]{32}\._domainkey\.gone\.parent\.test cannot be found either\. .*
(.*\n)*mail_from MX missing zone_not_found
(.*\n)*dmarc TXT missing zone_not_found
(.*\n)*overall attention
\z/



=== TEST 6: a zone its server cannot serve: SERVFAIL, wrong, DNSSEC named
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdKnot::add_domain('servfail.test');
--- request
GET /api/servfail.test/dns
--- response_body_like eval
qr/\Azone wrong servfail
  DNS servers fail to answer for servfail\.test \(SERVFAIL\): the zone is broken or its DNSSEC signatures do not validate, .*
  found: 
dkim CNAME wrong servfail
(.*\n)*mail_from TXT wrong servfail
(.*\n)*overall attention
\z/



=== TEST 7: a DNS server that never answers: unknown, timeout, after sender_domains_dns_timeout
--- config eval: $::Config
--- http_config eval
SdTest::http_config(
    'sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_SILENT_PORT;'
    . "\n    sender_domains_dns_timeout 1s;")
--- init
SdTest::sim_reset();
SdKnot::add_domain('dmarc-none.test');
--- request
GET /api/dmarc-none.test/dns
--- response_body_like eval
qr/\Azone unknown timeout
  No DNS server answered for dmarc-none\.test in time, so this record could not be checked\. .*
  found: 
dkim CNAME unknown timeout
(.*\n)*dmarc TXT unknown timeout
(.*\n)*overall attention
\z/
--- timeout: 5



=== TEST 8: an address has no records of its own
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"ann@dmarc-none.test","type":"email"}');
--- request
GET /api/ann%40dmarc-none.test/dns
--- response_body_filters
--- response_body
{"identity":"ann@dmarc-none.test","verdict":"ok","summary":"This sender has no DNS records of its own to check.","records":[]}



=== TEST 9: unknown identity, another workspace's, the service role, another method
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('dmarc-none.test', \&SdKnot::right);
--- request eval
["GET /api/nothere.test/dns", "GET /api/dmarc-none.test/dns", "GET /api/dmarc-none.test/dns", "POST /api/dmarc-none.test/dns"]
--- more_headers eval
["X-WS: acme\nX-Role: admin\nX-Plan: professional",
 "X-WS: other\nX-Role: admin\nX-Plan: professional",
 "X-WS: acme\nX-Role: service\nX-Plan: professional",
 "X-WS: acme\nX-Role: admin\nX-Plan: professional"]
--- response_body_filters
--- error_code eval
[404, 404, 403, 405]
--- response_body_like eval
[qr/"code":"not_found"/, qr/"code":"not_found"/, qr/"code":"member_required"/,
 qr/"code":"method_not_allowed"/]



=== TEST 10: without sender_domains_dns_resolver the system's resolvers answer (whatever they say, within the timeout)
--- config eval: $::Config
--- http_config eval
SdTest::http_config("    sender_domains_dns_timeout 2s;")
--- init
SdTest::sim_reset();
SdKnot::add_domain('dmarc-none.test');
--- request
GET /api/dmarc-none.test/dns
--- response_body_filters
--- response_body_like eval
qr/^\{"identity":"dmarc-none\.test","zone":\{"name":"dmarc-none\.test","verdict":"(missing|unknown|wrong|ok)",.*"records":\[\{"group":"dkim"/
--- timeout: 6



=== TEST 11: a DNS server that is not an address is refused at nginx -t
--- http_config eval
SdTest::http_config("    sender_domains_dns_resolver 127.0.0.1:53 dns.example.com:53;")
--- config
--- must_die
--- error_log
invalid DNS server address "dns.example.com:53" in "sender_domains_dns_resolver"



=== TEST 12: the MAIL FROM name delegated to another provider (NS records at pmail): wrong, delegated_elsewhere, which servers
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('delegated.test', sub {
    SdKnot::right_except(@_, qr/^pmail /)
    . "pmail NS ns1.other-provider.example.\npmail NS ns2.other-provider.example.\n" });
--- request
GET /api/delegated.test/dns
--- response_body_like eval
qr/\Azone ok match
dkim CNAME ok match
dkim CNAME ok match
dkim CNAME ok match
mail_from MX wrong delegated_elsewhere
  pmail\.delegated\.test is delegated to other name servers \(ns1\.other-provider\.example, ns2\.other-provider\.example\) than delegated\.test \(ns\.delegated\.test\): records added where delegated\.test is managed are not seen\. Add this record at the DNS provider that serves pmail\.delegated\.test, or remove the NS records of pmail\.delegated\.test at your DNS provider so that all of delegated\.test is managed in one place\.
  found: NS ns1\.other-provider\.example \| NS ns2\.other-provider\.example
mail_from TXT wrong delegated_elsewhere
  .*
  found: NS ns1\.other-provider\.example \| NS ns2\.other-provider\.example
dmarc TXT ok match
overall attention
\z/
