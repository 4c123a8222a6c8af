# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Request bodies larger than client_body_buffer_size (issue 13, section 6).
#
# nginx keeps a body up to client_body_buffer_size (8 or 16 KiB by default)
# in memory and writes a larger one to a temporary file.  The module reads
# such a body back from the file, up to its own 64 KiB limit, so PUT
# /legacy with hundreds of senders works; over 64 KiB it is still 413.

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

# 350 legacy senders with names: about 29 KB of JSON
our $legacy = '[' . join(',', map {
    sprintf '{"address":"sender%03d@legacy-%03d.example","sender_name":"Legacy sender %03d"}',
            $_, $_ % 7, $_
} 1 .. 350) . ']';

# one add, padded with spaces (valid JSON) to 20 KB
our $padded = '{"identity":"acme.com",' . (' ' x 20000) . '"sender_name":"Acme"}';

# just over 64 KiB, as legacy senders
our $huge = '[' . join(',', map {
    sprintf '{"address":"s%05d@big.example","sender_name":"%s"}', $_, 'n' x 60
} 1 .. 700) . ']';

sub count_rows {
    my $body = shift;
    require JSON::PP;
    my $j = eval { JSON::PP::decode_json($body) };
    return "not json: " . substr($body, 0, 200) unless ref $j eq 'HASH';
    return "error=$j->{error}{code}" if $j->{error};
    my $rows = $j->{legacy} || $j->{identities};
    return "rows=" . scalar(@$rows) . ' first=' . $rows->[0]{identity}
           . ' last=' . $rows->[-1]{identity} if $rows;
    return "identity=$j->{identity} name=$j->{sender_name}";
}

run_tests();

__DATA__

=== TEST 1: PUT /legacy with 350 senders (~29 KB, written to a temporary file by nginx) is read whole; GET / lists them
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"PUT /api/legacy\n$::legacy",
"GET /api/?limit=1000",
]
--- more_headers eval
["X-WS: acme\nX-Role: service\nContent-Type: application/json",
 "X-WS: acme\nX-Role: member\nX-Plan: professional"]
--- error_code eval
[200, 200]
--- response_body_filters eval
\&::count_rows
--- response_body eval
[
"rows=350 first=sender001\@legacy-001.example last=sender350\@legacy-000.example",
"rows=350 first=sender001\@legacy-001.example last=sender350\@legacy-000.example",
]
--- no_error_log
[error]



=== TEST 2: a small client_body_buffer_size: a 20 KB add is read from the file
--- http_config eval: $::HttpConfig
--- config
    client_body_buffer_size 1k;

    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
--- request eval
"POST /api/\n$::padded"
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
\&::count_rows
--- response_body: identity=acme.com name=Acme
--- error_log
a client request body is buffered to a temporary file



=== TEST 3: over 64 KiB is still 413 body_too_large, as JSON
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"PUT /api/legacy\n$::huge"
--- more_headers
X-WS: acme
X-Role: service
Content-Type: application/json
--- error_code: 413
--- response_body_like: ^\{"error":\{"code":"body_too_large","message":"The request body is larger than 64 KiB\."\}\}
