# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The card list in pages: GET /?limit=N&after=CURSOR.  Every row comes
# exactly once, managed rows then legacy ones, each by name; "next" is the
# cursor of the following page or null at the end; GET / alone answers a
# page of 100, with "next" only when more rows remain (so up to 100 rows
# as before paging: every row, no "next").  A cursor never reaches
# another workspace's rows.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

our (@setup, @setup_h, @setup_c, @setup_b);

my $admin = "X-WS: acme\nX-Role: admin\nX-Plan: professional\n"
            . "Content-Type: application/json";
my $other = "X-WS: other\nX-Role: admin\nX-Plan: professional\n"
            . "Content-Type: application/json";

# acme: managed a.com b.com c.com z@old.example; legacy x@ y@ z@old.example
# (z is hidden by its managed twin); other: aa.org bb.org cc.org
for my $req (
    ["PUT /api/legacy\n[{\"address\":\"z\@old.example\"},"
     . "{\"address\":\"y\@old.example\"},{\"address\":\"x\@old.example\"}]",
     "X-WS: acme\nX-Role: service\nContent-Type: application/json"],
    ["POST /api/\n{\"identity\":\"c.com\"}", $admin, 201],
    ["POST /api/\n{\"identity\":\"a.com\"}", $admin, 201],
    ["POST /api/\n{\"identity\":\"b.com\"}", $admin, 201],
    ["POST /sim/seed\n{\"identity\":\"z\@old.example\",\"verified\":true}",
     "Content-Type: application/json"],
    ["POST /api/z\@old.example/migrate", $admin],
    ["POST /api/\n{\"identity\":\"bb.org\"}", $other, 201],
    ["POST /api/\n{\"identity\":\"aa.org\"}", $other, 201],
    ["POST /api/\n{\"identity\":\"cc.org\"}", $other, 201],
) {
    push @setup, $req->[0];
    push @setup_h, $req->[1];
    push @setup_c, $req->[2] // 200;
    push @setup_b, 'ok';
}

our $member = "X-WS: acme\nX-Role: member\nX-Plan: professional";
our $all = 'a.com b.com c.com z@old.example x@old.example y@old.example';

sub c { SdTest::cursor(@_) }

# 250 legacy senders, l001@many.example .. l250@many.example
our $many = '[' . join(',', map { sprintf '{"address":"l%03d@many.example"}', $_ }
                       1 .. 250) . ']';

sub seed_many {
    SdTest::sim_reset();
    my ($st, $b) = SdTest::api(PUT => '/legacy', $::many, 'big', 'service');
    die "PUT /legacy: $st $b" unless $st == 200;
}

# a page in one line: its row count, first and last rows, and "next"
sub page_summary {
    my $body = shift;
    require JSON::PP;
    my $j = eval { JSON::PP::decode_json($body) };
    return "not json" unless ref $j eq 'HASH';
    return "error=$j->{error}{code}" if $j->{error};
    my @ids = map { $_->{identity} } @{ $j->{identities} };
    return scalar(@ids) . " rows $ids[0]..$ids[-1] next="
           . (!exists $j->{next} ? 'absent'
              : defined $j->{next} ? $j->{next} : 'null');
}

repeat_each(1);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: GET / alone, up to 100 rows: every row, managed then legacy, no "next" (as before paging)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::setup, "GET /api/", "GET /api/?other=1"]
--- more_headers eval
[@::setup_h, $::member, $::member]
--- error_code eval
[@::setup_c, 200, 200]
--- response_body_filters eval
\&SdTest::list_summary
--- response_body eval
[@::setup_b, "$::all next=absent", "$::all next=absent"]



=== TEST 2: pages of 2: every row exactly once, across managed and legacy rows; "next" is null as soon as no row is left
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::setup,
 "GET /api/?limit=2",
 "GET /api/?limit=2&after=" . ::c(m => 'b.com'),
 "GET /api/?limit=2&after=" . ::c(m => 'z@old.example'),
 "GET /api/?limit=2&after=" . ::c(l => 'y@old.example'),
]
--- more_headers eval
[@::setup_h, ($::member) x 4]
--- error_code eval
[@::setup_c, 200, 200, 200, 200]
--- response_body_filters eval
\&SdTest::list_summary
--- response_body eval
[@::setup_b,
 "a.com b.com next=" . ::c(m => 'b.com'),
 "c.com z\@old.example next=" . ::c(m => 'z@old.example'),
 "x\@old.example y\@old.example next=null",
 " next=null",
]



=== TEST 3: page edges: a page that ends the managed rows, an exact fit, 1000
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::setup,
 "GET /api/?limit=4",
 "GET /api/?limit=4&after=" . ::c(m => 'z@old.example'),
 "GET /api/?limit=6",
 "GET /api/?limit=1000",
 "GET /api/?limit=1&after=" . ::c(l => 'x@old.example'),
 "GET /api/?after=" . ::c(m => 'a.com'),
]
--- more_headers eval
[@::setup_h, ($::member) x 6]
--- error_code eval
[@::setup_c, (200) x 6]
--- response_body_filters eval
\&SdTest::list_summary
--- response_body eval
[@::setup_b,
 "a.com b.com c.com z\@old.example next=" . ::c(m => 'z@old.example'),
 "x\@old.example y\@old.example next=null",
 "$::all next=null",
 "$::all next=null",
 "y\@old.example next=null",
 "b.com c.com z\@old.example x\@old.example y\@old.example next=null",
]



=== TEST 4: a page starts after its cursor's name even when that row is gone
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::setup,
 "DELETE /api/b.com",
 "GET /api/?limit=2&after=" . ::c(m => 'b.com'),
 "GET /api/?limit=2&after=" . ::c(m => 'bz.com'),
 "GET /api/?limit=2&after=" . ::c(l => 'a@old.example'),
]
--- more_headers eval
[@::setup_h, "X-WS: acme\nX-Role: admin\nX-Plan: professional",
 ($::member) x 3]
--- error_code eval
[@::setup_c, 204, 200, 200, 200]
--- response_body_filters eval
\&SdTest::list_summary
--- response_body eval
[@::setup_b, "not json: ",
 "c.com z\@old.example next=" . ::c(m => 'z@old.example'),
 "c.com z\@old.example next=" . ::c(m => 'z@old.example'),
 "x\@old.example y\@old.example next=null",
]



=== TEST 5: another workspace's cursor positions within the caller's rows only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::setup,
 "GET /api/?limit=1&after=" . ::c(m => 'b.com'),
 "GET /api/?limit=5&after=" . ::c(m => 'aa.org'),
 "GET /api/?limit=5&after=" . ::c(l => 'x@old.example'),
 "GET /api/?limit=2",
]
--- more_headers eval
[@::setup_h, "X-WS: other\nX-Role: member\nX-Plan: professional",
 "X-WS: other\nX-Role: member\nX-Plan: professional",
 "X-WS: other\nX-Role: member\nX-Plan: professional",
 "X-WS: nobody\nX-Role: member\nX-Plan: professional"]
--- error_code eval
[@::setup_c, 200, 200, 200, 200]
--- response_body_filters eval
\&SdTest::list_summary
--- response_body eval
[@::setup_b,
 "bb.org next=" . ::c(m => 'bb.org'),
 "bb.org cc.org next=null",
 " next=null",
 " next=null",
]



=== TEST 6: a bad limit: 400 invalid_parameter with a sentence
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/?limit=0", "GET /api/?limit=1001", "GET /api/?limit=-1",
 "GET /api/?limit=abc", "GET /api/?limit=", "GET /api/?limit=+5",
 "GET /api/?limit=1.5", "GET /api/?limit=99999999999999999999"]
--- more_headers eval
[($::member) x 8]
--- error_code eval
[(400) x 8]
--- response_body_like eval
[(qr/^\{"error":\{"code":"invalid_parameter","message":"The limit must be a whole number from 1 to 1000\."\}\}$/) x 8]



=== TEST 7: a bad or forged cursor: 400 invalid_parameter, never a 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/?limit=2&after=",
 "GET /api/?limit=2&after=!!!",
 "GET /api/?limit=2&after=" . ::c(z => 'a.com'),
 "GET /api/?limit=2&after=" . ::c(m => ''),
 "GET /api/?limit=2&after=AAAA",
 "GET /api/?limit=2&after=" . ::c(m => "a\0b"),
 "GET /api/?limit=2&after=" . ::c(m => 'x' x 300),
 "GET /api/?after=b",
]
--- more_headers eval
[($::member) x 8]
--- error_code eval
[(400) x 8]
--- response_body_like eval
[(qr/^\{"error":\{"code":"invalid_parameter","message":"The after parameter must be the \\"next\\" value of an earlier page of this list\."\}\}$/) x 8]



=== TEST 8: paging changes nothing else: plan, role and HEAD as for GET /
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
["GET /api/?limit=2", "GET /api/?limit=2", "HEAD /api/?limit=2",
 "GET /api/?limit=0"]
--- more_headers eval
["X-WS: acme\nX-Role: member", "X-WS: acme\nX-Role: service\nX-Plan: professional",
 $::member, "X-WS: acme\nX-Role: member"]
--- error_code eval
[403, 403, 200, 403]
--- response_body_like eval
[qr/"code":"plan_required"/, qr/"code":"member_required"/, qr/^$/,
 qr/"code":"plan_required"/]



=== TEST 9: GET / of a workspace with 250 rows is one page of 100, with "next"; following it gives every row once; limit 1000 gives all; "after" alone is a page of 100 too
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed_many();
--- request eval
["GET /api/",
 "GET /api/?after=" . ::c(l => 'l100@many.example'),
 "GET /api/?after=" . ::c(l => 'l200@many.example'),
 "GET /api/?limit=1000",
 "GET /api/?limit=1001"]
--- more_headers
X-WS: big
X-Role: member
X-Plan: professional
--- error_code eval
[200, 200, 200, 200, 400]
--- response_body_filters eval
\&::page_summary
--- response_body eval
["100 rows l001\@many.example..l100\@many.example next=" . ::c(l => 'l100@many.example'),
 "100 rows l101\@many.example..l200\@many.example next=" . ::c(l => 'l200@many.example'),
 "50 rows l201\@many.example..l250\@many.example next=null",
 "250 rows l001\@many.example..l250\@many.example next=null",
 "error=invalid_parameter"]
