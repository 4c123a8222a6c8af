# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# GET /{identity}/dns: the MAIL FROM MX and SPF TXT checked against a real
# DNS server (Knot, one zone per scenario): another priority, a second MX,
# another mail server, an SPF record without Amazon SES, two SPF records,
# quotes typed into the value, a value split into pieces.

use lib 't/lib';
use SdKnot zones => [qw(mx-priority.test mx-extra.test mx-elsewhere.test
                        spf-include.test spf-two.test spf-quotes.test
                        spf-split.test mf-twice.test)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;');
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();
add_block_preprocessor(\&SdKnot::block_defaults);

run_tests();

__DATA__

=== TEST 1: the MX with another priority: set it to 10
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('mx-priority.test', sub {
    my ($t, $r) = @_;
    SdKnot::right_except($t, $r, qr/^pmail MX/)
    . "pmail MX 20 feedback-smtp.$r.amazonses.com.\n" });
--- request
GET /api/mx-priority.test/dns
--- response_body
zone ok match
dkim CNAME ok match
dkim CNAME ok match
dkim CNAME ok match
mail_from MX wrong mx_priority
  The MX record at pmail.mx-priority.test points to feedback-smtp.us-east-1.amazonses.com with priority 20; set the priority to 10.
  found: MX 20 feedback-smtp.us-east-1.amazonses.com
mail_from TXT ok match
dmarc TXT ok match
overall attention



=== TEST 2: a second MX that receives mail: conflict, remove it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('mx-extra.test', sub {
    my ($t, $r) = @_;
    SdKnot::right($t, $r) . "pmail MX 5 mx.mailhost.example.\n" });
--- request
GET /api/mx-extra.test/dns
--- response_body_like eval
qr/^mail_from MX conflict mx_extra
  pmail\.mx-extra\.test has a second MX record, mx\.mailhost\.example, besides Amazon SES's: mail for this name would go there too, and Amazon SES needs the name for its own bounces\. Remove the MX record pointing to mx\.mailhost\.example, or choose another MAIL FROM name\.
  found: MX (10 feedback-smtp\.us-east-1\.amazonses\.com \| MX 5 mx\.mailhost\.example|5 mx\.mailhost\.example \| MX 10 feedback-smtp\.us-east-1\.amazonses\.com)
mail_from TXT ok match
/m



=== TEST 3: the MX points to another mail server only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('mx-elsewhere.test', sub {
    my ($t, $r) = @_;
    SdKnot::right_except($t, $r, qr/^pmail MX/)
    . "pmail MX 10 aspmx.l.google.com.\n" });
--- request
GET /api/mx-elsewhere.test/dns
--- response_body_like eval
qr/^mail_from MX wrong mx_elsewhere
  The MX record at pmail\.mx-elsewhere\.test points to aspmx\.l\.google\.com, not to Amazon SES\. .* replace the MX record with 10 feedback-smtp\.us-east-1\.amazonses\.com, or choose another MAIL FROM name if pmail\.mx-elsewhere\.test receives other mail\.
  found: MX 10 aspmx\.l\.google\.com
/m



=== TEST 4: an SPF record without include:amazonses.com
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('spf-include.test', sub {
    my ($t, $r) = @_;
    SdKnot::right_except($t, $r, qr/^pmail TXT/)
    . qq(pmail TXT "v=spf1 include:_spf.google.com ~all"\n) });
--- request
GET /api/spf-include.test/dns
--- response_body_like eval
qr/^mail_from TXT wrong spf_missing_include
  The SPF record at pmail\.spf-include\.test does not allow Amazon SES: add include:amazonses\.com to it \(before the final ~all or -all\), for example: v=spf1 include:amazonses\.com ~all
  found: TXT "v=spf1 include:_spf\.google\.com ~all"
/m



=== TEST 5: two SPF records at the MAIL FROM name: conflict, merge them
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('spf-two.test', sub {
    my ($t, $r) = @_;
    SdKnot::right($t, $r)
    . qq(pmail TXT "v=spf1 include:_spf.google.com ~all"\n) });
--- request
GET /api/spf-two.test/dns
--- response_body_like eval
qr/^mail_from TXT conflict spf_multiple
  pmail\.spf-two\.test has 2 SPF records \(TXT starting with v=spf1\); with more than one, SPF fails for all mail\. Merge them into one record that contains include:amazonses\.com, and delete the others\.
/m



=== TEST 6: quotes typed into the value on a provider that adds its own
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('spf-quotes.test', sub {
    my ($t, $r) = @_;
    SdKnot::right_except($t, $r, qr/^pmail TXT/)
    . qq(pmail TXT "\\"v=spf1 include:amazonses.com ~all\\""\n) });
--- request
GET /api/spf-quotes.test/dns
--- response_body_like eval
qr/^mail_from TXT wrong txt_extra_quotes
  The TXT record at pmail\.spf-quotes\.test has quotation marks inside its value, so mail servers do not recognise it\. Your DNS provider adds the quotes by itself: enter the value without them: v=spf1 include:amazonses\.com ~all
  found: TXT "\\"v=spf1 include:amazonses\.com ~all\\""
/m



=== TEST 7: the value split into pieces that run together
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('spf-split.test', sub {
    my ($t, $r) = @_;
    SdKnot::right_except($t, $r, qr/^pmail TXT/)
    . qq(pmail TXT "v=spf1" "include:amazonses.com" "~all"\n) });
--- request
GET /api/spf-split.test/dns
--- response_body_like eval
qr/^mail_from TXT wrong txt_split
  The SPF record at pmail\.spf-split\.test is split into several strings that run together without spaces \(mail servers join them as they are\)\. Enter the value as one piece: v=spf1 include:amazonses\.com ~all
  found: TXT "v=spf1" "include:amazonses\.com" "~all"
/m



=== TEST 8: the MAIL FROM records with the domain appended twice
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('mf-twice.test', sub {
    my ($t, $r) = @_;
    my $z = SdKnot::right($t, $r);
    $z =~ s/^pmail /pmail.mf-twice.test /mg;
    $z });
--- request
GET /api/mf-twice.test/dns
--- response_body_like eval
qr/^mail_from MX wrong domain_appended_twice
  The record was found at pmail\.mf-twice\.test\.mf-twice\.test: the domain is in the name twice, because your DNS provider adds "mf-twice\.test" to the name by itself\. Change the record's name to only "pmail"\.
  found: MX 10 feedback-smtp\.us-east-1\.amazonses\.com
mail_from TXT wrong domain_appended_twice
.*
  found: TXT "v=spf1 include:amazonses\.com ~all"
dmarc TXT ok match
/m
