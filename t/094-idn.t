# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Internationalised domain names (libidn2, IDNA2008 with UTS #46
# mapping): U-labels are accepted on add, in the path and in ?from=, stored
# and sent to SES as A-labels; an "xn--" label that is not valid punycode
# is refused; the DNS diagnosis looks the A-label names up.

use lib 't/lib';
use SdKnot zones => [qw(xn--bcher-kva.example)];
use SdTest;
use Test::Nginx::Socket 'no_plan';

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config('sender_domains_dns_resolver 127.0.0.1:$TEST_NGINX_KNOT_PORT;');
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('more_headers', "X-WS: acme\nX-Role: admin\n"
                                      . "X-Plan: professional\n"
                                      . "Content-Type: application/json")
        unless defined $block->more_headers;
});

run_tests();

__DATA__

=== TEST 1: a U-label domain is added as its A-label, in SES too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
POST /api/
{"identity":"Bücher.example","type":"domain"}
--- error_code: 201
--- response_body_like eval
qr/^\{"identity":"xn--bcher-kva\.example","type":"domain",.*"name":"[a-z0-9]{32}\._domainkey\.xn--bcher-kva\.example"/



=== TEST 2: SES got the A-label; the U-label in the path finds the row
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"bücher.example","type":"domain"}');
--- request eval
["GET /sim/identities", "GET /api/b%C3%BCcher.example", "GET /api/xn--bcher-kva.example"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"identity": ?"xn--bcher-kva\.example"/, qr/^\{"identity":"xn--bcher-kva\.example"/,
 qr/^\{"identity":"xn--bcher-kva\.example"/]



=== TEST 3: an xn-- label that is not valid punycode is refused, never sent to SES
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["POST /api/\n{\"identity\":\"xn--zz.example\",\"type\":\"domain\"}",
 "POST /api/\n{\"identity\":\"reports\@mail.xn--zz.example\",\"type\":\"email\"}",
 "GET /sim/identities"]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[qr/^\{"error":\{"code":"invalid_identity","message":"This is not a valid internationalised domain name: a part starting with xn-- must be valid punycode/,
 qr/"code":"invalid_identity","message":"This is not a valid internationalised domain name/,
 qr/^(?!.*xn--zz)/s]



=== TEST 4: ?from= with a U-label domain uses the verified A-label domain
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"xn--caf-dma.example","type":"domain","sender_name":"Café"}');
SdTest::sim(POST => '/dns/publish', '{"identity":"xn--caf-dma.example"}');
SdTest::api(POST => '/xn--caf-dma.example/refresh');
--- request
GET /api/resolve?from=reports%40caf%C3%A9.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"=?UTF-8?B?Q2Fmw6k=?= <reports@xn--caf-dma.example>","address":"reports@xn--caf-dma.example","source":"domain","fallback":false,"reason":null}



=== TEST 5: the DNS diagnosis of an IDN domain looks up its A-label names
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdKnot::scenario('bücher.example', sub { SdKnot::right(@_) });
--- request
GET /api/b%C3%BCcher.example/dns
--- response_body_filters eval
\&SdKnot::summary
--- response_body
zone ok match
dkim CNAME ok match
dkim CNAME ok match
dkim CNAME ok match
mail_from MX ok match
mail_from TXT ok match
dmarc TXT ok match
overall ok
