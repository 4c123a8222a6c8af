# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Fair shares of SES (issue 13, section 4).
#   - Per-identity cooldowns: a refresh calls SES at most once per 10 s
#     (a later one answers the stored row with Retry-After); a resend at
#     most once a minute (the add's email counts) and 5 times a day: 429
#     too_many_requests with Retry-After, no SES call.
#   - A member's refresh of a half-added row only reads (GetEmailIdentity).
#   - The call budget goes round the workspaces that wait: one workspace
#     flooding adds at sender_domains_ses_rate 1 does not make another
#     workspace's add fail with 503.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use JSON::PP ();
use IO::Socket::INET;
use Time::HiRes ();

# The blocks' http{} lines: SdTest's plumbing (t/lib/SdTest.pm) with the
# cooldowns left to the module's defaults (SdTest turns them off for the
# other files), and the call rate at 1 a second where the budget matters.
our $HttpConfig = SdTest::http_config(<<'_EOC_');
    # sender_domains_refresh_cooldown: the module's default, 10s
    # sender_domains_resend_cooldown: the module's default, 60s 5
_EOC_
our $HttpConfigRate1 = SdTest::http_config(<<'_EOC_');
    # sender_domains_refresh_cooldown: the module's default, 10s
    # sender_domains_resend_cooldown: the module's default, 60s 5
    sender_domains_ses_rate 1;
_EOC_

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

# An API call that returns (status, Retry-After or "-", error code or
# state, body).
sub call {
    my ($method, $path, $body, $ws, $role) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT},
                                  Timeout => 30) or die "connect: $!";
    $body //= '';
    print $s "$method /api$path HTTP/1.0\r\nHost: localhost\r\n"
           . "X-WS: " . ($ws // 'acme') . "\r\nX-Role: " . ($role // 'admin')
           . "\r\nX-Plan: professional\r\nContent-Type: application/json\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    my ($st) = $head =~ m{^HTTP/\S+ (\d+)};
    my ($ra) = $head =~ m{\r\nRetry-After: *(\d+)}i;
    my $j = eval { JSON::PP::decode_json($rbody) } || {};
    my $what = $j->{error} ? $j->{error}{code} : ($j->{state} // '');
    return ($st, $ra // '-', $what, $rbody);
}

# "status what retry-after-range" for comparing
sub line {
    my ($st, $ra, $what, $lo, $hi) = @_;
    my $r = $ra eq '-' ? 'no-retry'
          : ($ra >= $lo && $ra <= $hi) ? "retry-ok" : "retry=$ra";
    return "$st $what $r";
}

sub calls {
    my ($id) = @_;
    my $c = SdTest::sim(GET => '/calls' . ($id ? "?identity=$id" : ''));
    my @a = $c =~ /"action": "(\w+)"/g;
    return join(",", @a) || 'none';
}

sub out {
    open my $o, '>', SdTest::server_root() . "/html/out.txt" or die;
    print $o join("\n", @_), "\n";
    close $o;
}

# Adds ID as an admin while SES fails as FAULT says, then refreshes it as
# ROLE: "status state-or-error" of both, and the SES calls of the refresh.
sub add_half_then_refresh {
    my ($fault, $id, $role) = @_;
    SdTest::sim(POST => '/faults', $fault);
    my @a = call(POST => '/', qq({"identity":"$id"}));
    SdTest::sim(DELETE => '/calls');
    my @r = call(POST => "/$id/refresh", '', 'acme', $role);
    return ("$a[0] $a[2]", "$r[0] $r[2]", calls());
}

# Sends REQUESTS in the background, gives them SECS to take the call
# budget, then times CALL (a code ref); returns CALL's answer (an array
# ref), its seconds, and how many of REQUESTS got each status (a hash ref).
sub while_flooding {
    my ($secs, $call, @reqs) = @_;
    my $f = SdTest::server_root() . "/html/flood";
    my @p = SdTest::background($f, @reqs);
    Time::HiRes::sleep($secs);
    my $t0 = Time::HiRes::time();
    my @r = $call->();
    my $t = Time::HiRes::time() - $t0;
    SdTest::wait_pids(@p);
    return (\@r, $t, SdTest::statuses($f, scalar @reqs));
}

# One request of WS's admin in the background: the file its answer goes
# to (SdTest::statuses) and the pid to wait for.
sub admin_in_background {
    my ($ws, $method, $path, $body) = @_;
    my $f = SdTest::server_root() . "/html/$ws";
    return ($f, SdTest::background($f, [$method => "/api$path", $body,
        {'X-WS' => $ws, 'X-Role' => 'admin', 'X-Plan' => 'professional'}]));
}

run_tests();

__DATA__

=== TEST 1: a second refresh within 10 s answers the stored row with Retry-After and calls SES no more
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
my @o;
my @r = ::call(POST => '/', '{"identity":"acme.com"}');
push @o, "$r[0] $r[2]";
SdTest::sim(DELETE => '/calls');
@r = ::call(POST => '/acme.com/refresh', '', 'acme', 'member');
push @o, ::line(@r[0..2], 1, 10);
@r = ::call(POST => '/acme.com/refresh', '', 'acme', 'member');
push @o, ::line(@r[0..2], 1, 10);
@r = ::call(POST => '/acme.com/refresh', '', 'acme', 'admin');
push @o, ::line(@r[0..2], 1, 10);
push @o, ::calls();
::out(@o);
--- request
GET /out
--- response_body
201 ready
200 ready no-retry
200 ready retry-ok
200 ready retry-ok
GetEmailIdentity



=== TEST 2: a resend right after the add's email is 429 too_many_requests with Retry-After, and no email goes out
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
my @o;
my @r = ::call(POST => '/', '{"identity":"reports@acme.com"}');
push @o, "$r[0] $r[2]";
SdTest::sim(DELETE => '/calls');
for (1 .. 3) {
    @r = ::call(POST => '/reports@acme.com/resend-verification');
    push @o, ::line(@r[0..2], 50, 60);
}
push @o, $r[3] =~ /"message":"A verification email was sent moments ago/ ? "message ok" : "message: $r[3]";
push @o, ::calls();
::out(@o);
--- request
GET /out
--- response_body
201 ready
429 too_many_requests retry-ok
429 too_many_requests retry-ok
429 too_many_requests retry-ok
message ok
none



=== TEST 3: a member's refresh of a half-added domain only reads: no CreateEmailIdentity, no MAIL FROM
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::add_half_then_refresh(
    '{"kind":"503","match":"CreateEmailIdentity"}', 'half.example', 'member'));
--- request
GET /out
--- response_body
503 ses_unavailable
200 creating
GetEmailIdentity



=== TEST 4: SES created it but the answer was lost: a member's refresh sees it (read only) and leaves the MAIL FROM to an admin
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::add_half_then_refresh(
    '{"kind":"503","match":"CreateEmailIdentity","after":true}', 'lost.example', 'member'));
--- request
GET /out
--- response_body
503 ses_unavailable
200 configuring_mail_from
GetEmailIdentity



=== TEST 5: an admin's refresh still finishes a half-added domain
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::out(::add_half_then_refresh(
    '{"kind":"503","match":"CreateEmailIdentity"}', 'resume.example', 'admin'));
--- request
GET /out
--- response_body
503 ses_unavailable
200 ready
CreateEmailIdentity,PutEmailIdentityMailFromAttributes



=== TEST 6: at sender_domains_ses_rate 1, one workspace flooding adds does not make another workspace's add fail: it gets its turn
--- http_config eval: $::HttpConfigRate1
--- config eval: $::Config
--- init
SdTest::sim_reset();
my ($r, $t, $n) = ::while_flooding(1.5,
    sub { ::call(POST => '/', '{"identity":"calm.example"}', 'calm') },
    map { [POST => '/api/', qq({"identity":"f$_\@flood.example"}),
           {'X-WS' => 'flooder', 'X-Role' => 'admin',
            'X-Plan' => 'professional'}] } 1 .. 40);
::out("$r->[0] $r->[2]", $t < 4 ? "in time" : "took $t s",
      ($n->{503} // 0) > 0 ? "the flood slowed itself"
                            : "flood: " . join(",", %$n));
--- request
GET /out
--- response_body
201 ready
in time
the flood slowed itself
--- timeout: 60



=== TEST 7: the 429 of a resend, as a client sees it
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::api(POST => '/', '{"identity":"ann@solo.example"}');
--- request
POST /api/ann%40solo.example/resend-verification
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code: 429
--- response_headers_like
Retry-After: (5\d|60)
--- response_body_like
^\{"error":\{"code":"too_many_requests","message":"A verification email was sent moments ago; check the inbox \(and the spam folder\), or try again in (5\d|60) seconds\."\}\}$



=== TEST 8: a member's refresh of a half-added row answers it, read only
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
SdTest::sim(POST => '/faults', '{"kind":"503","match":"CreateEmailIdentity"}');
SdTest::api(POST => '/', '{"identity":"half.example"}');
--- request
POST /api/half.example/refresh
--- more_headers
X-WS: acme
X-Role: member
X-Plan: professional
--- error_code: 200
--- response_body_like: "state":"creating"



=== TEST 9: at sender_domains_ses_rate 1, one workspace flooding refresh does not make another workspace's add fail
--- http_config eval: $::HttpConfigRate1
--- config eval: $::Config
--- init
SdTest::sim_reset();
my @rows = map { "r$_\@busy.example" } 1 .. 4;
::call(POST => '/', qq({"identity":"$_"}), 'busy') for @rows;
my ($r, $t, $n) = ::while_flooding(0.5,
    sub { ::call(POST => '/', '{"identity":"quiet.example"}', 'quiet') },
    map { [POST => '/api/' . $rows[$_ % 4] . '/refresh', '',
           {'X-WS' => 'busy', 'X-Role' => ($_ % 2 ? 'admin' : 'member'),
            'X-Plan' => 'professional'}] } 1 .. 60);
my $gets = () = ::calls() =~ /GetEmailIdentity/g;
delete @$n{200, 503};
::out("$r->[0] $r->[2]", $t < 3 ? "in time" : "took $t s",
      %$n ? "refreshes: " . join(",", %$n) : "refreshes: 200 or 503",
      $gets <= 4 ? "at most one SES call per row" : "$gets GetEmailIdentity");
--- request
GET /out
--- response_body
201 ready
in time
refreshes: 200 or 503
at most one SES call per row
--- timeout: 60



=== TEST 10: at sender_domains_ses_rate 1, an add whose create waited for another workspace's turn answers before its MAIL FROM, says so, and the MAIL FROM follows by itself
--- http_config eval: $::HttpConfigRate1
--- config eval: $::Config
--- init
SdTest::sim_reset();
# another workspace has been served before; then the bucket fills up
::call(POST => '/', '{"identity":"o1@other.example"}', 'other');
Time::HiRes::sleep(2.5);
# busy's first domain takes the two calls in the bucket (create, MAIL FROM)
my @first = ::call(POST => '/', '{"identity":"first.example"}', 'busy');
# other's add now has the next turn; busy's second domain waits behind it,
# and its MAIL FROM would have waited one more second
my ($f, @p) = ::admin_in_background('other', POST => '/',
                                    '{"identity":"o2@other.example"}');
Time::HiRes::sleep(0.2);
my @r = ::call(POST => '/', '{"identity":"second.example"}', 'busy');
SdTest::wait_pids(@p);
my $j = JSON::PP::decode_json($r[3]);
my $ready = SdTest::wait_until(10, sub {
    my @g = ::call(GET => '/second.example', '', 'busy');
    $g[2] eq 'ready' ? JSON::PP::decode_json($g[3]) : undef });
::out("$first[0] $first[2]",
      "$r[0] $j->{state} $j->{mail_from_status} "
      . ($j->{mail_from_domain} // 'null') . " "
      . ($j->{last_error} ? $j->{last_error}{code} : 'no-error'),
      $ready ? "then ready $ready->{mail_from_domain}" : "never ready",
      ::calls('second.example'));
--- request
GET /out
--- response_body
201 ready
201 configuring_mail_from not_configured null no-error
then ready pmail.second.example
CreateEmailIdentity,PutEmailIdentityMailFromAttributes
--- timeout: 60



=== TEST 11: a request's follow privilege covers one call: a workspace whose refresh makes three calls does not get the third before another workspace's waiting add
--- http_config eval: $::HttpConfigRate1
--- config eval: $::Config
--- init
SdTest::sim_reset();
# SES creates lost.example but its answer is lost: the row stays creating,
# and an admin's refresh then makes three calls (create: it exists; get:
# it is ours; MAIL FROM)
SdTest::sim(POST => '/faults',
            '{"kind":"503","match":"CreateEmailIdentity","after":true}');
my @a = ::call(POST => '/', '{"identity":"lost.example"}', 'hog');
Time::HiRes::sleep(2.5);
SdTest::sim(DELETE => '/calls');
my ($f, @p) = ::admin_in_background('hog', POST => '/lost.example/refresh', '');
# the create and the get went at once (the bucket was full); the MAIL FROM
# would need a second call: calm's add comes in meanwhile
Time::HiRes::sleep(1);
my @r = ::call(POST => '/', '{"identity":"me@calm.example"}', 'calm');
SdTest::wait_pids(@p);
my $c = JSON::PP::decode_json(SdTest::sim(GET => '/calls'));
::out("$a[0] $a[2]", "$r[0] $r[2]",
      join(",", map { ($_->{identity} =~ /calm/ ? "calm:" : "hog:")
                      . $_->{action} } @$c),
      SdTest::statuses($f, 1)->{200} ? "refresh 200" : "refresh failed");
--- request
GET /out
--- response_body
503 ses_unavailable
201 ready
hog:CreateEmailIdentity,hog:GetEmailIdentity,calm:CreateEmailIdentity,hog:PutEmailIdentityMailFromAttributes
refresh 200
--- timeout: 60
