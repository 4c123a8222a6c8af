# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The send-time resolver: which From header to use (a verified address of
# the workspace, a verified domain covering it, a legacy sender, in that order),
# falling back to the default sender (with a warning) rather than failing
# or spoofing.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

sub api {
    my ($method, $path) = @_;
    my ($st, $b) = SdTest::api(@_);
    die "$method $path: $st $b" if $st >= 400;
    return $b;
}

# acme: verified acme.com (name "Acme Reports"), a verified address on
# another domain, an unverified address, a legacy sender; other: verified
# other.example.
sub seed {
    SdTest::sim_reset();
    api(POST => '/', '{"identity":"acme.com","sender_name":"Acme Reports"}');
    SdTest::sim(POST => '/dns/publish', '{"identity":"acme.com"}');
    api(POST => '/acme.com/refresh');
    api(POST => '/', '{"identity":"Ann@solo.example","sender_name":"Ann, from Acme"}');
    SdTest::sim(POST => '/click', '{"identity":"Ann@solo.example"}');
    api(POST => '/Ann@solo.example/refresh');
    api(POST => '/', '{"identity":"waiting@pending.example"}');
    api(PUT => '/legacy', '[{"address":"old@legacy.example","sender_name":"Café Équipe"}]',
        'acme', 'service');
    api(POST => '/', '{"identity":"other.example"}', 'other');
    SdTest::sim(POST => '/dns/publish', '{"identity":"other.example"}');
    api(POST => '/other.example/refresh', undef, 'other');
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('init', '::seed();') unless defined $block->init;
});

run_tests();

__DATA__

=== TEST 1: a verified domain covers its addresses, with the domain's sender name
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=reports%40acme.com
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Acme Reports <reports@acme.com>","address":"reports@acme.com","source":"domain","fallback":false,"reason":null}



=== TEST 2: ... and its subdomains, as SES does
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=Someone+%3Cbilling%40eu.mail.ACME.com%3E
--- more_headers
X-WS: acme
X-Role: member
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Acme Reports <billing@eu.mail.acme.com>","address":"billing@eu.mail.acme.com","source":"domain","fallback":false,"reason":null}



=== TEST 3: a verified single address, its name quoted per RFC 5322
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=Ann%40solo.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"\"Ann, from Acme\" <Ann@solo.example>","address":"Ann@solo.example","source":"address","fallback":false,"reason":null}



=== TEST 4: local parts match as SES matches them: case-sensitively
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=ann%40solo.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Platform Reports <reports@platform.example>","address":"reports@platform.example","source":"default","fallback":true,"reason":"not_registered"}
--- error_log
sender_domains: workspace "acme" cannot send as "ann@solo.example" (not_registered); using the default sender



=== TEST 5: a grandfathered legacy sender, non-ASCII name encoded per RFC 2047
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=old%40legacy.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"=?UTF-8?B?Q2Fmw6kgw4lxdWlwZQ==?= <old@legacy.example>","address":"old@legacy.example","source":"legacy","fallback":false,"reason":null}



=== TEST 6: an unverified address falls back, with a warning naming workspace and address
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=waiting%40pending.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Platform Reports <reports@platform.example>","address":"reports@platform.example","source":"default","fallback":true,"reason":"not_verified"}
--- error_log
[warn]
workspace "acme" cannot send as "waiting@pending.example" (not_verified)



=== TEST 7: another workspace's verified domain is never used
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve?from=ceo%40other.example
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Platform Reports <reports@platform.example>","address":"reports@platform.example","source":"default","fallback":true,"reason":"not_registered"}



=== TEST 8: when the plan lapses, managed senders fall back; legacy ones keep working
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /api/resolve?from=reports%40acme.com",
"GET /api/resolve?from=old%40legacy.example",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: starter
--- error_code eval
[200, 200]
--- response_body eval
[
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"plan_required\"}\n",
"{\"from\":\"=?UTF-8?B?Q2Fmw6kgw4lxdWlwZQ==?= <old\@legacy.example>\",\"address\":\"old\@legacy.example\",\"source\":\"legacy\",\"fallback\":false,\"reason\":null}\n",
]



=== TEST 9: header injection in from is refused: default sender, reason invalid_address
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"GET /api/resolve?from=reports%40acme.com%0D%0ABcc%3A%20victim%40example.com",
"GET /api/resolve?from=Evil%0A%3Creports%40acme.com%3E",
"GET /api/resolve?from=a%40acme.com%2C%20b%40acme.com",
"GET /api/resolve?from=not-an-address",
"GET /api/resolve?from=",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"invalid_address\"}\n",
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"invalid_address\"}\n",
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"invalid_address\"}\n",
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"invalid_address\"}\n",
"{\"from\":\"Platform Reports <reports\@platform.example>\",\"address\":\"reports\@platform.example\",\"source\":\"default\",\"fallback\":true,\"reason\":\"invalid_address\"}\n",
]



=== TEST 10: no from at all is a 400 for the caller's code to fix
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/resolve
--- more_headers
X-WS: acme
X-Role: service
--- error_code: 400
--- response_body_like: "code":"invalid_request"



=== TEST 11: the requested display name is used when the sender has none
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
::api(PATCH => '/acme.com', '{"sender_name":""}');
--- request
GET /api/resolve?from=Quarterly+Team+%3Cq%40acme.com%3E
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body
{"from":"Quarterly Team <q@acme.com>","address":"q@acme.com","source":"domain","fallback":false,"reason":null}



=== TEST 12: $sender_domains_from in front of a mail-sending upstream
--- http_config eval: $::HttpConfig
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /send {
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        add_header X-From $sender_domains_from always;
        return 204;
    }
--- request eval
[
"GET /send?from=reports%40acme.com",
"GET /send?from=intruder%40other.example",
]
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code eval
[204, 204]
--- response_headers eval
[
"X-From: Acme Reports <reports\@acme.com>",
"X-From: Platform Reports <reports\@platform.example>",
]



=== TEST 13: escapes in either case, '+' and %20 both spaces, %2B a plus
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
::api(PATCH => '/acme.com', '{"sender_name":""}');
--- request eval
[
"GET /api/resolve?from=Quarterly+Team%20%3cq%2Ba%40ACME%2ecom%3E",
"GET /api/resolve?from=Q4+Team+%3Cq+a%40acme.com%3E",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body eval
[
qq({"from":"Quarterly Team <q+a\@acme.com>","address":"q+a\@acme.com","source":"domain","fallback":false,"reason":null}\n),
qq({"from":"Platform Reports <reports\@platform.example>","address":"reports\@platform.example","source":"default","fallback":true,"reason":"invalid_address"}\n),
]



=== TEST 14: a stray '%' is decoded as nginx decodes URIs: a '%' without
two hex digits is dropped, the characters after it are kept
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
::api(PATCH => '/acme.com', '{"sender_name":""}');
--- request eval
[
"GET /api/resolve?from=Quarterly+Team+%3Cq%40acme.com%3E%",
"GET /api/resolve?from=Quarterly+Team%+%3Cq%40acme.com%3E",
"GET /api/resolve?from=%zzQ+%3Cq%40acme.com%3E",
"GET /api/resolve?from=Q+%3Cq%40acme.com%3E%4",
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[
qq({"from":"Quarterly Team <q\@acme.com>","address":"q\@acme.com","source":"domain","fallback":false,"reason":null}\n),
qq({"from":"Quarterly Team <q\@acme.com>","address":"q\@acme.com","source":"domain","fallback":false,"reason":null}\n),
qq({"from":"zzQ <q\@acme.com>","address":"q\@acme.com","source":"domain","fallback":false,"reason":null}\n),
qq({"from":"Q <q\@acme.com>","address":"q\@acme.com","source":"domain","fallback":false,"reason":null}\n),
]
