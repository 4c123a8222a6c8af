# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Per-workspace limits (issue 13, section 3): sender_domains_max_identities
# (default 100) and sender_domains_max_legacy (default 1000).  Past the
# limit an add, a migrate or a PUT /legacy is 403 limit_reached with the
# limit in the answer; the count is taken in the store's write transaction,
# so adds racing from two workers never overshoot it.  With the expected
# number of workspaces given, a configuration that cannot fit warns at start.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use JSON::PP ();

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config();

master_on();
workers(2);
repeat_each(1);
no_shuffle();

our $Config = <<'EOF_CONF';
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /out {
        default_type text/plain;
        alias $TEST_NGINX_SERVER_ROOT/html/out.txt;
    }
EOF_CONF

# One line per call: "status code limit" (code and limit when an error).
sub line {
    my ($st, $body) = @_;
    my $j = eval { JSON::PP::decode_json($body) };
    my $l = $st;
    if (ref $j eq 'HASH' && $j->{error}) {
        $l .= " $j->{error}{code}";
        $l .= " limit=$j->{error}{limit}" if defined $j->{error}{limit};
    }
    return $l;
}

sub out {
    open my $o, '>', SdTest::server_root() . "/html/out.txt" or die;
    print $o join("\n", @_), "\n";
    close $o;
}

sub add {
    my ($id, $ws) = @_;
    return line(SdTest::api(POST => '/', qq({"identity":"$id"}), $ws));
}

# Adds racing from many clients at once; tallies the statuses.
sub race {
    my ($ws, $n) = @_;
    my $f = SdTest::server_root() . "/html/r";
    my @p = SdTest::background($f, map {
        [POST => '/api/', qq({"identity":"r$_\@race.example"}),
         {'X-WS' => $ws, 'X-Role' => 'admin', 'X-Plan' => 'professional'}]
    } 1 .. $n);
    SdTest::wait_pids(@p);
    my %n = %{ SdTest::statuses($f, $n) };
    return join(",", map { "$_=$n{$_}" } sort keys %n);
}

sub legacy {
    my ($ws, @addrs) = @_;
    my $body = '[' . join(',', map { qq({"address":"$_"}) } @addrs) . ']';
    return line(SdTest::api(PUT => '/legacy', $body, $ws, 'service'));
}

sub count {
    my ($ws) = @_;
    my ($st, $b) = SdTest::api(GET => '/?limit=1000', undef, $ws);
    my $j = eval { JSON::PP::decode_json($b) } or return "not json";
    my @m = grep { ($_->{kind} // '') ne 'legacy' } @{ $j->{identities} };
    my @l = grep { ($_->{kind} // '') eq 'legacy' } @{ $j->{identities} };
    return "managed=" . @m . " legacy=" . @l;
}

run_tests();

__DATA__

=== TEST 1: the third add of a workspace with a limit of 2 is 403 limit_reached, with the limit; other workspaces are not affected; a removal frees a place
--- http_config eval: SdTest::http_config('sender_domains_max_identities 2;')
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::add('a@one.example', 'ws1'), ::add('b@one.example', 'ws1'),
      ::add('c@one.example', 'ws1'), ::add('one.example', 'ws1'),
      ::add('a@two.example', 'ws2'),
      ::add('a@one.example', 'ws1'),
      ::line(SdTest::api(DELETE => '/a@one.example', undef, 'ws1')),
      ::add('c@one.example', 'ws1'), ::count('ws1'));
--- request
GET /out
--- response_body
201
201
403 limit_reached limit=2
403 limit_reached limit=2
201
409 already_exists
204
201
managed=2 legacy=0
--- no_error_log
[error]



=== TEST 2: the default limit is 100 identities per workspace: the 101st add is refused
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
my @r;
push @r, ::add("u$_\@hundred.example", 'big') for 1 .. 100;
my %n; $n{$_}++ for @r;
::out(join(",", map { "$_=$n{$_}" } sort keys %n),
      ::add('u101@hundred.example', 'big'), ::add('x@other.example', 'small'));
--- request
GET /out
--- response_body
201=100
403 limit_reached limit=100
201
--- timeout: 60



=== TEST 3: twelve adds racing from two workers against a limit of 3: exactly three are stored
--- http_config eval: SdTest::http_config('sender_domains_max_identities 3;')
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::race('racer', 12), ::count('racer'));
--- request
GET /out
--- response_body
201=3,403=9
managed=3 legacy=0
--- timeout: 30



=== TEST 4: legacy senders count apart: a PUT /legacy over sender_domains_max_legacy is refused whole, the old list stays
--- http_config eval: SdTest::http_config("sender_domains_max_identities 1;\n    sender_domains_max_legacy 2;")
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::legacy('lg', 'a@legacy.example', 'b@legacy.example'),
      ::legacy('lg', 'a@legacy.example', 'b@legacy.example', 'c@legacy.example'),
      ::count('lg'),
      ::add('new@managed.example', 'lg'),
      ::add('two@managed.example', 'lg'));
--- request
GET /out
--- response_body
200
403 limit_reached limit=2
managed=0 legacy=2
201
403 limit_reached limit=1
--- no_error_log
[error]



=== TEST 5: 0 is unlimited
--- http_config eval: SdTest::http_config("sender_domains_max_identities 0;\n    sender_domains_max_legacy 0;\n    client_body_buffer_size 128k;")
--- config eval: $::Config
--- init
SdTest::sim_reset();
my @r;
push @r, ::add("u$_\@many.example", 'many') for 1 .. 3;
::out(@r, ::legacy('many', map { "l$_\@legacy.example" } 1 .. 1001));
--- request
GET /out
--- response_body
201
201
201
200
--- timeout: 30



=== TEST 6: with the expected number of workspaces, limits that cannot fit in the map warn at start
--- http_config eval: SdTest::http_config('sender_domains_max_identities 100 workspaces=1000;')
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- error_log eval
qr/\[warn\].*sender_domains: 1000 workspaces at their limits \(100 identities x \d+ bytes \+ 1000 legacy x \d+ bytes each\) need about \d+ MiB, more than the store's 16 MiB/



=== TEST 7: limits that fit do not warn
--- http_config eval: SdTest::http_config("sender_domains_max_identities 10 workspaces=100;\n    sender_domains_max_legacy 10;")
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- no_error_log
[warn]



=== TEST 8: a bad workspaces= parameter stops the start
--- http_config eval: SdTest::http_config('sender_domains_max_identities 10 workers=100;')
--- config eval: $::Config
--- must_die
--- error_log
invalid parameter "workers=100"



=== TEST 9: the answer past the limit, as a client sees it
--- http_config eval: SdTest::http_config('sender_domains_max_identities 1;')
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"first@acme.example"}');
--- request
POST /api/
{"identity":"second@acme.example"}
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":{"code":"limit_reached","message":"This workspace has reached its limit of 1 identities. Remove one you no longer use, or ask the platform to raise the limit.","limit":1}}



=== TEST 10: a legacy list over the limit, as the sync service sees it
--- http_config eval: SdTest::http_config('sender_domains_max_legacy 1;')
--- config eval: $::Config
--- request
PUT /api/legacy
[{"address":"a@legacy.example"},{"address":"b@legacy.example"}]
--- more_headers
X-WS: acme
X-Role: service
Content-Type: application/json
--- error_code: 403
--- response_body_like
^\{"error":\{"code":"limit_reached","message":"This workspace has reached its limit of 1 legacy senders\. [^"]+","limit":1\}\}$



=== TEST 11: with the expected workspaces given, an unlimited identity count warns at start
--- http_config eval: SdTest::http_config('sender_domains_max_identities 0 workspaces=10;')
--- config eval: $::Config
--- request
GET /api/
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 200
--- error_log
sender_domains: with an unlimited sender_domains_max_identities one workspace can fill the store (16 MiB) for all 10 workspaces
