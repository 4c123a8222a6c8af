# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A table of malformed requests: methods, paths, percent-encoding,
# oversized and deeply nested bodies, wrong types, invalid UTF-8, NUL
# bytes, CR/LF in every string field, overlong labels and addresses, IDN,
# SQL- and path-traversal-shaped strings.  Every one is a 4xx JSON error:
# no 5xx, no HTML page, no worker crash (the runner fails a block on a
# crash or an [alert]).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
# nginx's own refusals (%00 in a URI, a path leaving /api/) in JSON too
our $Config = SdTest::api_config(<<"_EOC_");
    include $SdTest::Root/conf-examples/json-errors.conf;
_EOC_

repeat_each(1);
no_shuffle();

my $A = "X-WS: acme\nX-Role: admin\nX-Plan: professional";
my $J = "$A\nContent-Type: application/json";

# [request, headers]
our @Cases;

sub add { push @Cases, [$_[0], $_[1] // $A] }
sub post_json { add("POST $_[0]\n$_[1]", $J) }

# wrong methods on every endpoint
for my $m (qw(PUT DELETE PATCH OPTIONS)) { add("$m /api/") }
for my $m (qw(POST PUT OPTIONS)) { add("$m /api/acme.com") }
for my $m (qw(GET PUT DELETE PATCH)) {
    add("$m /api/acme.com/refresh");
    add("$m /api/acme.com/resend-verification");
    add("$m /api/acme.com/migrate");
}
for my $m (qw(POST PUT DELETE PATCH)) { add("$m /api/resolve") }
for my $m (qw(GET POST DELETE PATCH)) { add("$m /api/legacy") }

# paths and identities that cannot exist
my @bad_ids = (
    "acme..com", "-acme.com", "acme-.com", "acme", "a" x 64 . ".com",
    join(".", ("abcdefghij") x 25) . ".com", "acme.com%00", "acme.com%0d%0aX:1",
    "%2e%2e%2fetc%2fpasswd", "..%2F..%2Fetc", "acme.com'%20OR%201=1--",
    "b%C3%BCcher.de", "%F0%9F%98%80.com", "acme_.com", "*.acme.com",
    "acme.com:443", "1.2.3.4", "%5B::1%5D", "x" x 65 . "%40acme.com",
    "a%40b%40acme.com", "%40acme.com", "reports%40", "%22q%22%40acme.com",
    "%ff%fe", "acme.com%09", "acme.com%0a",
);
for my $id (@bad_ids) {
    add("GET /api/$id");
    add("DELETE /api/$id");
    add("POST /api/$id/refresh");
    post_json("/api/$id/migrate", "{}");
}
add("GET /api/acme.com/refresh/extra");
add("GET /api/acme.com/unknown");
add("GET /api/a/b/c/d");

# bodies that are not what POST / expects
my @bodies = (
    '', ' ', 'null', 'true', '42', '"acme.com"', '[]', '[{"identity":"acme.com"}]',
    '{', '{"identity":', '{"identity":"acme.com"', "{'identity':'acme.com'}",
    '{"identity":"acme.com",}', '{"identity":"acme.com"} trailing',
    '{"identity":"a.com","identity":"b.com"}',
    '{"identity":null}', '{"identity":42}', '{"identity":true}', '{"identity":[]}',
    '{"identity":{}}', '{"identity":""}', '{"identity":"   "}',
    '{"identity":"acme.com","type":42}', '{"identity":"acme.com","type":"web"}',
    '{"identity":"acme.com","type":null,"mail_from_subdomain":7}',
    '{"identity":"acme.com","mail_from_subdomain":"a.b"}',
    '{"identity":"acme.com","mail_from_subdomain":"' . ("m" x 64) . '"}',
    '{"identity":"acme.com","mail_from_subdomain":"-x"}',
    '{"identity":"acme.com","mail_from_subdomain":"p mail"}',
    '{"identity":"acme.com","sender_name":42}',
    '{"identity":"acme.com","sender_name":"' . ("n" x 101) . '"}',
    '{"identity":"acme.com\u0000.evil"}', "{\"identity\":\"acme.com\x00\"}",
    "{\"identity\":\"\xC3\x28.com\"}", "{\"identity\":\"acme.com\",\"sender_name\":\"\xED\xA0\x80\"}",
    "{\"identity\":\"acme.com\",\"sender_name\":\"\xC0\xAF\"}",
    '{"identity":"' . ("[" x 5000) . '"}', ("[" x 5000) . ("]" x 5000),
    '{"a":' x 3000 . '1' . '}' x 3000,
    '{"identity":"acme.com","type":"email"}', '{"identity":"x@acme.com","type":"domain"}',
    '{"identity":"xn--zz.de"}', '{"identity":"xn--bcher-kva..de"}',
    '{"identity":"acme.com\' OR \'1\'=\'1"}', '{"identity":"acme.com; DROP TABLE identities;--"}',
    '{"identity":"../../etc/passwd"}', '{"identity":"acme.com/../../x"}',
    '{"identity":"https://acme.com"}', '{"identity":"' . ("a" x 300) . '.com"}',
    '{"identity":"' . ("r" x 250) . '@acme.com","type":"email"}',
    '{"identity":"Acme <a@acme.com>","type":"email"}',
    '{"identity":"\"quoted\"@acme.com","type":"email"}',
    '{"identity":"a@[127.0.0.1]","type":"email"}',
    '{"identity":"josé@acme.com","type":"email"}',
    '{"identity":"a@b@c.com","type":"email"}',
);
post_json("/api/", $_) for @bodies;

# CR/LF and other controls in every string field of every body
for my $ctl ('\r\n', '\n', '\r', '\t', '\u0000', '\u007f', '\u0085', '\u2028') {
    post_json("/api/", "{\"identity\":\"acme.com${ctl}Bcc: x\@y.z\"}");
    post_json("/api/", "{\"identity\":\"acme.com\",\"type\":\"domain${ctl}\"}");
    post_json("/api/", "{\"identity\":\"acme.com\",\"mail_from_subdomain\":\"pm${ctl}ail\"}");
    post_json("/api/", "{\"identity\":\"acme.com\",\"sender_name\":\"Acme${ctl}Bcc: x\@y.z\"}");
    add("PATCH /api/acme.com\n{\"sender_name\":\"Acme${ctl}X\"}", $J);
    add("PUT /api/legacy\n[{\"address\":\"ops\@acme.com${ctl}\"}]",
        "X-WS: acme\nX-Role: service\nContent-Type: application/json");
    add("PUT /api/legacy\n[{\"address\":\"ops\@acme.com\",\"sender_name\":\"O${ctl}ps\"}]",
        "X-WS: acme\nX-Role: service\nContent-Type: application/json");
}

# PATCH and PUT /legacy bodies of the wrong shape
for my $b ('[]', '"x"', '{}', '{"sender_name":null}', '{"sender_name":[]}',
           '{"sender_name":"A","extra":1}', '{"origin":"created"}') {
    add("PATCH /api/acme.com\n$b", $J);
}
for my $b ('{}', '"x"', '[1]', '[null]', '[{"address":42}]', '[{"address":null}]',
           '[{"sender_name":"x"}]', '[{"address":"ops@acme.com","sender_name":1}]',
           '[' . join(",", ('{"address":"a@b.com"}') x 1001) . ']') {
    add("PUT /api/legacy\n$b", "X-WS: acme\nX-Role: service\nContent-Type: application/json");
}

# content types, sizes, callers
add("POST /api/\n{\"identity\":\"acme.com\"}", "$A\nContent-Type: text/plain");
add("POST /api/\n{\"identity\":\"acme.com\"}", $A);
add("POST /api/\n" . ('{"identity":"' . ("a" x 70000) . '"}'), $J);
add("PATCH /api/acme.com\n{\"sender_name\":\"A\"}", "$A\nContent-Type: application/xml");
add("GET /api/", "X-Role: admin\nX-Plan: professional");
add("GET /api/", "X-WS: " . ("w" x 200) . "\nX-Plan: professional");
add("GET /api/resolve", $A);
add("GET /api/resolve?fro=a%40b.com", $A);
add("POST /api/", "X-WS: acme\nX-Role: member\nX-Plan: professional\nContent-Type: application/json");
add("DELETE /api/acme.com", "X-WS: acme\nX-Role: admin\nX-Plan: basic");

$ENV{TEST_NGINX_BAD_COUNT} = scalar @Cases;

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('request', [map { $_->[0] } @Cases]);
    $block->set_value('more_headers', [map { $_->[1] } @Cases]);
    $block->set_value('error_code_like', [map { qr/^4\d\d$/ } @Cases]);
    $block->set_value('response_body_like',
        [map { qr/^\{"error":\{"code":"[a-z_]+","message":"[^"]+"/ } @Cases]);
});

run_tests();

__DATA__

=== TEST 1: every malformed request is a 4xx JSON error
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request
GET /api/
