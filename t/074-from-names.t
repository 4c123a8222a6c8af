# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# From headers that mail software misreads (issue 13, section 5).
#
# Every display name, stored with PATCH or asked for with ?from=, goes
# through GET /resolve, and the answer's "from" is read back by Python's
# email package (t/lib/from_check.py: policy.default and compat32's
# parseaddr() + decode_header()): the parsed address must be exactly the
# resolved address, the parsed name exactly the name given, with no
# control character, and "From: " + value at most 998 octets.  Hostile
# names (CR/LF, typed encoded-words, bidi overrides and other invisible
# characters, quotes, backslashes, long and non-ASCII names) are among
# them; those the rules refuse get 400 invalid_sender_name on PATCH and
# fall back with reason invalid_sender_name on ?from=.

use utf8;
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use JSON::PP ();

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), plus the
# directives this file is about.
our $HttpConfig = SdTest::http_config();
our $Config = SdTest::api_config();

repeat_each(1);
no_shuffle();

# The longest address there is on a verified domain: a 64-character local
# part on a 186-character domain, 251 characters in all.
our $dom = ('a' x 63) . '.' . ('b' x 63) . '.' . ('c' x 50) . '.example';
our $addr = ('r' x 64) . '@' . $dom;

my $json = JSON::PP->new->ascii->allow_nonref;

sub api {
    my ($st, $b) = SdTest::api(@_);
    die "@_[0,1]: $st $b" if $st >= 400;
    return $b;
}

# acme: the verified domain $dom, no sender name yet
sub seed {
    SdTest::sim_reset();
    api(POST => '/', $json->encode({identity => $dom}));
    SdTest::sim(POST => '/dns/publish', $json->encode({identity => $dom}));
    api(POST => "/$dom/refresh");
}

sub uri_escape {
    my $s = shift;
    utf8::encode($s);
    $s =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

# what a response says, in one line: a PATCH or POST answer, an error
# code, or (a resolution) the verdict of t/lib/from_check.py
sub verdict {
    my $body = shift;
    my $j = eval { JSON::PP::decode_json($body) };
    return "not json: $body" unless ref $j eq 'HASH';
    return "error=$j->{error}{code}" if $j->{error};
    return 'saved' if exists $j->{identity};
    return 'legacy saved' if exists $j->{legacy};

    my $tmp = SdTest::server_root() . '/logs/resolution.json';
    open my $fh, '>:raw', $tmp or die "$tmp: $!";
    print $fh $body;
    close $fh;
    my $out = `/usr/bin/python3 $SdTest::Root/t/lib/from_check.py < $tmp`;
    chomp $out;
    return $out;
}

sub name_is { 'name=' . $json->encode($_[0]) }

# Names the rules accept: each must read back as itself.
our @good = (
    'Acme Reports',
    'Acme, Inc. "Reports"',
    'back\\slash \\" end\\',
    # typed encoded-words: decoded, these would be a CR LF and a header,
    # an address, a name in angle brackets
    '=?utf-8?q?Evil=0D=0ABcc:_victim@evil.example?=',
    '=?UTF-8?B?PGFkbWluQGJhbmsuZXhhbXBsZT4=?=',
    'Support =?utf-8?q?=3Cceo=40bank.example=3E?= Team',
    '=?ISO-8859-1?Q?Andr=E9?= Pirard',
    '=?é?= mixed',
    '=?' x 50,
    'Café Équipe',
    '李明的报告',
    'تقارير أكمي',
    "\x{1F469}\x{200D}\x{1F4BB} Dev",          # ZWJ sequence
    'a@b.example <c@d.example>',
    'Acme (Reports) <x> [y]: z; w',
    'A?=B and =? alone',
    'x' x 100,
    'é' x 100,
    "\x{1F600}" x 100,                       # the widest name there is
    '"' x 100,
    '\\' x 100,
);

# Names the rules refuse, stored or asked for.
our @bad = (
    "Acme\x{202E}evil",                      # RIGHT-TO-LEFT OVERRIDE
    "Acme\x{2066}x",                         # LEFT-TO-RIGHT ISOLATE
    "Acme\x{200F}",                          # RIGHT-TO-LEFT MARK
    "Pay\x{200B}Pal",                        # ZERO WIDTH SPACE
    "Pay\x{00AD}Pal",                        # SOFT HYPHEN
    "\x{FEFF}Acme",                          # BOM
    "Acme\x{2060}",                          # WORD JOINER
    "Acme\x{E0041}\x{E0042}",                # tag characters
    'x' x 101,
    'é' x 101,
);

# Names with controls: refused on PATCH; in a ?from= value they make the
# whole value invalid (reason invalid_address, as before).
our @ctl = (
    "Acme\r\nBcc: victim\@example.com",
    "Acme\x{1B}[31m",
    "Acme\x{2028}Reports",
);

sub quoted {
    my $n = shift;
    $n =~ s/(["\\])/\\$1/g;
    return qq("$n");
}

our (@stored_req, @stored_code, @stored_want);
for my $n (@good) {
    push @stored_req, "PATCH /api/$dom\n" . $json->encode({sender_name => $n}),
                      "GET /api/resolve?from=" . uri_escape($addr);
    push @stored_code, 200, 200;
    push @stored_want, 'saved', name_is($n);
}
for my $n (@bad, @ctl) {
    push @stored_req, "PATCH /api/$dom\n" . $json->encode({sender_name => $n});
    push @stored_code, 400;
    push @stored_want, 'error=invalid_sender_name';
}
# nothing refused was stored: the last good name still goes out
push @stored_req, "GET /api/resolve?from=" . uri_escape($addr);
push @stored_code, 200;
push @stored_want, name_is($good[-1]);

our (@asked_req, @asked_want);
for my $n (@good) {
    push @asked_req, "GET /api/resolve?from=" . uri_escape(quoted($n) . " <$addr>");
    push @asked_want, name_is($n);
}
for my $n (@bad) {
    push @asked_req, "GET /api/resolve?from=" . uri_escape(quoted($n) . " <$addr>");
    push @asked_want, 'fallback invalid_sender_name';
}
for my $n (@ctl) {
    push @asked_req, "GET /api/resolve?from=" . uri_escape(quoted($n) . " <$addr>");
    push @asked_want, 'fallback invalid_address';
}
# unquoted, the same
push @asked_req, "GET /api/resolve?from=" . uri_escape("Pay\x{200B}Pal <$addr>"),
                 "GET /api/resolve?from=" . uri_escape(('y' x 101) . " <$addr>"),
                 "GET /api/resolve?from=" . uri_escape("=?utf-8?q?a=0D=0Ab?= <$addr>");
push @asked_want, 'fallback invalid_sender_name', 'fallback invalid_sender_name',
                  name_is('=?utf-8?q?a=0D=0Ab?=');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('init', '::seed();') unless defined $block->init;
});

run_tests();

__DATA__

=== TEST 1: stored names: each accepted one reads back as itself in both parsers; invisible characters, controls and over-long names are refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::stored_req]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[@::stored_code]
--- response_body_filters eval
\&::verdict
--- response_body eval
[@::stored_want]
--- timeout: 60



=== TEST 2: names asked for with ?from= get the same rules: accepted ones read back as themselves, refused ones fall back with reason invalid_sender_name
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[@::asked_req]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[(200) x @::asked_req]
--- response_body_filters eval
\&::verdict
--- response_body eval
[@::asked_want]
--- timeout: 60



=== TEST 3: a refused ?from= name is logged as such, with the workspace
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
"GET /api/resolve?from=" . ::uri_escape("Pay\x{200B}Pal <$::addr>")
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code: 200
--- response_body_filters eval
\&::verdict
--- response_body: fallback invalid_sender_name
--- error_log
workspace "acme" asked for an invalid sender name; using the default sender



=== TEST 4: the sender's own name wins, yet a refused ?from= name still falls back (the same ?from= gives the same answer whatever is stored)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
::seed();
::api(PATCH => "/$::dom", '{"sender_name":"Acme Reports"}');
--- request eval
[
"GET /api/resolve?from=" . ::uri_escape("Other <$::addr>"),
"GET /api/resolve?from=" . ::uri_escape("Pay\x{200B}Pal <$::addr>"),
]
--- more_headers
X-WS: acme
X-Role: service
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_filters eval
\&::verdict
--- response_body eval
['name="Acme Reports"', 'fallback invalid_sender_name']



=== TEST 5: an address with "=?" before the @ is refused on add and on PUT /legacy, and never resolves
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/\n{\"identity\":\"=?utf-8?q?ceo=40bank.example?=\@solo.example\"}",
"POST /api/\n{\"identity\":\"a=?b\@solo.example\"}",
"PUT /api/legacy\n[{\"address\":\"=?utf-8?q?x?=\@legacy.example\"}]",
"GET /api/resolve?from=" . ::uri_escape("=?utf-8?q?ceo=40bank.example?=\@$::dom"),
"GET /api/resolve?from=" . ::uri_escape("Ceo <=?utf-8?q?ceo=40bank.example?=\@$::dom>"),
"GET /api/resolve?from=" . ::uri_escape("a=b?c\@$::dom"),
"GET /api/resolve?from=" . ::uri_escape("a?=b\@$::dom"),
"POST /api/\n{\"identity\":\"a=b?c\@solo.example\"}",
]
--- more_headers eval
[("X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json") x 2,
 "X-WS: acme\nX-Role: service\nContent-Type: application/json",
 ("X-WS: acme\nX-Role: service\nX-Plan: professional") x 4,
 "X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json"]
--- error_code eval
[400, 400, 400, 200, 200, 200, 200, 201]
--- response_body_filters eval
\&::verdict
--- response_body eval
[
"error=invalid_identity",
"error=invalid_identity",
"error=invalid_identity",
"fallback invalid_address",
"fallback invalid_address",
'name=""',
'name=""',
"saved",
]



=== TEST 6: the same name rules on add and in PUT /legacy
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- request eval
[
"POST /api/\n{\"identity\":\"beta.example\",\"sender_name\":\"Pay\\u200bPal\"}",
"POST /api/\n{\"identity\":\"beta.example\",\"sender_name\":\"=?utf-8?q?a=0D=0Ab?=\"}",
"PUT /api/legacy\n[{\"address\":\"ops\@legacy.example\",\"sender_name\":\"Ops\\u00ad\"}]",
"PUT /api/legacy\n[{\"address\":\"ops\@legacy.example\",\"sender_name\":\"Ops\\u2067x\"}]",
"PUT /api/legacy\n[{\"address\":\"ops\@legacy.example\",\"sender_name\":\"=?utf-8?b?T3Bz?=\"}]",
"GET /api/resolve?from=ops%40legacy.example",
]
--- more_headers eval
[("X-WS: acme\nX-Role: admin\nX-Plan: professional\nContent-Type: application/json") x 2,
 ("X-WS: acme\nX-Role: service\nContent-Type: application/json") x 3,
 "X-WS: acme\nX-Role: service\nX-Plan: professional"]
--- error_code eval
[400, 201, 400, 400, 200, 200]
--- response_body_filters eval
\&::verdict
--- response_body eval
[
"error=invalid_sender_name",
"saved",
"error=invalid_sender_name",
"error=invalid_sender_name",
"legacy saved",
'name="=?utf-8?b?T3Bz?="',
]
