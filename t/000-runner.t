# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Self-test of the test runner (t/lib/Test/Nginx/Socket.pm) against plain
# nginx, without our module.
#
# Part 1 (the __DATA__ blocks) is portable: it must pass under the in-tree
# runner and under the CPAN Test::Nginx::Socket alike.  Each block carries a
# "--- tests: N" section (ignored by both runners): the number of assertions
# the block must produce per repetition, counted by hand from the rules
# (1 status + 1 body check + 1 per response_headers line + 1 per error_log /
# no_error_log line, per request).  The plan is built from those numbers, so
# a runner that counts differently fails this file.
#
# Part 2 (after run_tests) runs small generated .t files in a child perl to
# check behaviour that cannot pass in-process: a broken nginx.conf, a crashed
# worker, a client timeout, the bail-out on an unset $TEST_NGINX_ variable,
# master_on()/workers(2), and that no nginx process is left behind.  Most of
# it is specific to the in-tree runner and is skipped under the CPAN one.

# The runner is tested against stock nginx: do not load our module even
# when the suite is run with TEST_NGINX_LOAD_MODULES (read at load time).
BEGIN { delete $ENV{TEST_NGINX_LOAD_MODULES} }

use Test::Nginx::Socket;
use File::Spec ();
use File::Temp ();
use IO::Socket::INET ();
use List::Util ();
use Time::HiRes ();

repeat_each(2);

my $in_tree = $Test::Nginx::Socket::IN_TREE ? 1 : 0;
my @nested = nested_tests();
my $nested_count = List::Util::sum(map { $_->{count} } @nested);
my $leftover_count = 1;

plan tests => repeat_each() * List::Util::sum(map { $_->tests } blocks())
              + $nested_count + $leftover_count;

run_tests();

# --- Part 2 ---------------------------------------------------------------

SKIP: {
    skip "in-tree runner only (nginx runs as a daemon until END under the "
         . "CPAN runner)", 1 unless $in_tree;
    my @left = procs_using(server_root());
    ok(!@left, "no process uses " . server_root() . " after run_tests()")
        or diag("left: @left");
}

for my $t (@nested) {
    SKIP: {
        skip "$t->{name}: in-tree runner only", $t->{count}
            if $t->{in_tree_only} && !$in_tree;
        run_nested($t);
    }
}

# Directory holding the Test/Nginx/Socket.pm in use, for the child perl.
sub runner_lib {
    my $path = $INC{'Test/Nginx/Socket.pm'};
    $path =~ s{/Test/Nginx/Socket\.pm$}{};
    return File::Spec->rel2abs($path);
}

sub free_port {
    for (1 .. 200) {
        my $port = 20000 + int rand 30000;
        my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0',
                                      LocalPort => $port, ReuseAddr => 1,
                                      Listen => 1) or next;
        close $s;
        return $port;
    }
    die "no free port";
}

# PIDs of the processes (other than us) that have a file under $dir open or
# mention it on their command line: nginx masters, workers, single process.
sub procs_using {
    my $dir = shift;
    my @pids;
    for my $p (glob "/proc/[0-9]*") {
        my ($pid) = $p =~ m{(\d+)$};
        next if $pid == $$;
        my $hit = 0;
        if (open my $in, '<', "$p/cmdline") {
            local $/;
            my $cmd = <$in> // '';
            $hit = 1 if index($cmd, $dir) >= 0;
        }
        if (!$hit && opendir(my $dh, "$p/fd")) {
            for my $fd (readdir $dh) {
                my $target = readlink "$p/fd/$fd" or next;
                if (index($target, $dir) == 0) { $hit = 1; last }
            }
        }
        push @pids, $pid if $hit;
    }
    return @pids;
}

# Writes $t->{source} to a temporary .t, runs it with its own port and
# server root, then runs $t->{check}->($output, $exit_code, $seconds) plus
# the "nothing left behind" check.
sub run_nested {
    my $t = shift;
    my $dir = File::Temp::tempdir("tn-selftest-XXXXXX", TMPDIR => 1,
                                  CLEANUP => 1);
    my $file = "$dir/nested.t";
    open my $out, '>', $file or die "$file: $!";
    print $out $t->{source};
    close $out;

    my $servroot = "$dir/servroot";
    # Same nginx binary, but a port and server root of its own, and none of
    # the settings the outer run received or set.
    local %ENV = %ENV;
    delete @ENV{grep { /^TEST_NGINX_/ && !/^TEST_NGINX_BINARY$/ } keys %ENV};
    my $cd = '';
    if ($t->{randomize}) {
        # the runner picks the port and makes t/servroot_<port> in the
        # current directory: run it in the temporary one
        $ENV{TEST_NGINX_RANDOMIZE} = 1;
        mkdir "$dir/t";
        $servroot = "$dir/t";
        $cd = "cd '$dir' && ";
    } else {
        $ENV{TEST_NGINX_PORT} = free_port();
        $ENV{TEST_NGINX_SERVROOT} = $servroot;
    }

    my $lib = runner_lib();
    my $t0 = Time::HiRes::time();
    my $output = `${cd}timeout 120 $^X -I$lib $file 2>&1`;   # never hang
    my $exit = $? >> 8;
    my $secs = Time::HiRes::time() - $t0;

    $t->{check}->($output, $exit, $secs);

    my @left = procs_using($servroot);
    ok(!@left, "$t->{name}: no nginx process left in $servroot")
        or diag("left: @left");
}

sub nested_tests {
    my @t;

    # A config nginx refuses must fail the block cleanly: the status
    # assertion fails with nginx's own message, the assertion count stays
    # right, nothing hangs and the file goes on with the next block.
    push @t, {
        name => 'bad directive', in_tree_only => 1, count => 6,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 5;
no_shuffle();
run_tests();
__DATA__

=== TEST 1: bad directive
--- config
    location = /t { no_such_directive 1; }
--- request
GET /t
--- response_body
x
--- no_error_log
[error]

=== TEST 2: next block still runs
--- config
    location = /t { return 200 "fine"; }
--- request
GET /t
--- response_body: fine
_EOT_
        check => sub {
            my ($out, $exit, $secs) = @_;
            like($out, qr/^not ok 1 - .*TEST 1: bad directive - status code ok$/m,
                 "bad directive: status assertion fails")
                or diag($out);
            like($out, qr/^#\s+nginx failed to start \(exit code 1\)\n#\s+.*unknown directive "no_such_directive"/m,
                 "bad directive: nginx's message is shown");
            like($out, qr/^ok 4 - .*TEST 2: next block still runs - status code ok$/m,
                 "bad directive: the next block runs and passes");
            unlike($out, qr/Looks like you planned|Bail out/,
                   "bad directive: assertion count unchanged, no bail out")
                or diag($out);
            ok($exit != 0 && $secs < 30,
               "bad directive: exits non-zero quickly ($exit, ${secs}s)");
        },
    };

    # With TEST_NGINX_RANDOMIZE, a port that another process takes after
    # the runner chose it moves the block to another port; the file does not
    # bail out.  The child file occupies its chosen port from a process of
    # its own before run_tests().
    push @t, {
        name => 'port taken', in_tree_only => 1, randomize => 1, count => 5,
        source => <<'_EOT_',
use Test::Nginx::Socket;
use IO::Socket::INET ();
use POSIX ();
plan tests => 4;
my $taken = $ENV{TEST_NGINX_SERVER_PORT};
my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $taken,
                              ReuseAddr => 1, Listen => 5)
    or die "cannot take port $taken: $!";
my $holder = fork;
die "fork: $!" unless defined $holder;
if ($holder == 0) { sleep 60; POSIX::_exit(0) }
close $s;
print "# taken: $taken by pid $holder\n";
END { local $?; if ($holder) { kill 'TERM', $holder; waitpid $holder, 0 } }
no_shuffle();
run_tests();
__DATA__

=== TEST 1: served on another port
--- config
    location = /p { return 200 "$arg_p:$server_port"; }
--- request
GET /p?p=$TEST_NGINX_SERVER_PORT
--- response_body_like: ^(\d+):\1$

=== TEST 2: the next block keeps the new port
--- config
    location = /p { return 200 "$arg_p:$server_port"; }
--- request
GET /p?p=$TEST_NGINX_SERVER_PORT
--- response_body_like: ^(\d+):\1$
_EOT_
        check => sub {
            my ($out, $exit) = @_;
            my ($taken) = $out =~ /^# taken: (\d+)/m;
            my ($from, $to) = $out =~ /port (\d+) is in use by another process; using port (\d+)/;
            ok($taken && $from && $from == $taken && $to != $taken,
               "port taken: the runner moved off the taken port")
                or diag($out);
            unlike($out, qr/Bail out|^not ok/m,
                   "port taken: no bail out, every block passes")
                or diag($out);
            is(scalar(() = $out =~ /using port/g), 1,
               "port taken: moved once, the next block stays there");
            is($exit, 0, "port taken: the file passes");
        },
    };

    # The same when the port is lost between the runner's check and nginx's
    # bind(): the check is made to see the port free, so nginx itself fails
    # with "Address already in use", and the block is started again on
    # another port.
    push @t, {
        name => 'port lost at bind', in_tree_only => 1, randomize => 1, count => 4,
        source => <<'_EOT_',
use Test::Nginx::Socket;
use IO::Socket::INET ();
use POSIX ();
plan tests => 2;
my $taken = $ENV{TEST_NGINX_SERVER_PORT};
my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $taken,
                              ReuseAddr => 1, Listen => 5)
    or die "cannot take port $taken: $!";
my $holder = fork;
die "fork: $!" unless defined $holder;
if ($holder == 0) { sleep 60; POSIX::_exit(0) }
close $s;
print "# taken: $taken by pid $holder\n";
END { local $?; if ($holder) { kill 'TERM', $holder; waitpid $holder, 0 } }
{ no warnings 'redefine'; *Test::Nginx::Socket::_wait_port_free = sub { 1 }; }
run_tests();
__DATA__

=== TEST 1: started again on another port
--- config
    location = /p { return 200 "$arg_p:$server_port"; }
--- request
GET /p?p=$TEST_NGINX_SERVER_PORT
--- response_body_like: ^(\d+):\1$
_EOT_
        check => sub {
            my ($out, $exit) = @_;
            my ($taken) = $out =~ /^# taken: (\d+)/m;
            my ($from, $to) = $out =~ /port (\d+) was taken while nginx started; using port (\d+)/;
            ok($taken && $from && $from == $taken && $to != $taken,
               "port lost at bind: nginx was started again on another port")
                or diag($out);
            unlike($out, qr/Bail out|^not ok/m,
                   "port lost at bind: no bail out, the block passes")
                or diag($out);
            is($exit, 0, "port lost at bind: the file passes");
        },
    };

    # --- init is evaluated in the runner's package: "sleep 0.3" there
    # must wait 0.3 s (Time::HiRes), not CORE::sleep's 0 s.
    push @t, {
        name => 'fractional sleep in init', in_tree_only => 1, count => 2,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 2;
run_tests();
__DATA__

=== TEST 1: init sleeps
--- config
    location = /t { return 200 "ok"; }
--- init
$main::t0 = Time::HiRes::time(); sleep 0.3; $main::slept = Time::HiRes::time() - $main::t0; print "# slept $main::slept\n";
--- request
GET /t
--- response_body: ok
_EOT_
        check => sub {
            my ($out) = @_;
            like($out, qr/^# slept 0\.(2[5-9]|[3-9])/m,
                 "fractional sleep in init: waits 0.3 s")
                or diag($out);
        },
    };

    # --- response_json (in-tree only): the body parsed and compared field
    # by field; a wrong value, a missing key, another array length, a
    # boolean for a string and a body that is not JSON each fail the
    # block's assertion with the path and the value got.
    push @t, {
        name => 'response_json', in_tree_only => 1, count => 8,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 12;
no_shuffle();
run_tests();
__DATA__

=== TEST 1: matching fields, a regex, true, null, an array, other keys ignored
--- config
    default_type application/json;
    location = /j { return 200 '{"a":{"b":"x","n":3,"t":true,"z":null,"o":1},"l":[1,"two"]}'; }
    location = /e { return 200 '[]'; }
--- request eval
["GET /j", "GET /j", "GET /e"]
--- response_json eval
[
{a => {b => 'x', n => 3, t => JSON::PP::true, z => undef}, l => [1, qr/^tw/]},
'{"a":{"t":true,"n":3}}',
[],
]

=== TEST 2: a wrong value fails
--- request
GET /j
--- response_json
{"a":{"b":"y"}}

=== TEST 3: a missing key, another array length, false for true fail
--- request
GET /j
--- response_json eval
{a => {missing => 1, t => JSON::PP::false}, l => [1]}

=== TEST 4: a body that is not JSON fails
--- config
    location = /t { return 200 "plain text"; }
--- request
GET /t
--- response_json
{}
_EOT_
        check => sub {
            my ($out, $exit) = @_;
            my @ok1 = $out =~ /^ok \d+ - .*TEST 1: .*response_json/mg;
            is(scalar @ok1, 3, "response_json: matching fields pass")
                or diag($out);
            ok($out =~ /^not ok \d+ - .*TEST 2: .*response_json/m
               && $out =~ /^#\s+\$\.a\.b: got "x", expected "y"$/m,
               "response_json: a wrong value fails, with path and value")
                or diag($out);
            like($out, qr/^#\s+\$\.a\.missing: missing, expected "1"$/m,
                 "response_json: a missing key is reported") or diag($out);
            like($out, qr/^#\s+\$\.a\.t: got true, expected false$/m,
                 "response_json: a boolean mismatch is reported") or diag($out);
            like($out, qr/^#\s+\$\.l: got 2 elements, expected 1: \[1,"two"\]$/m,
                 "response_json: another array length is reported") or diag($out);
            ok($out =~ /^not ok \d+ - .*TEST 4: .*response_json/m
               && $out =~ /^#\s+the body is not JSON .*plain text$/m,
               "response_json: a body that is not JSON fails") or diag($out);
            isnt($exit, 0, "response_json: the file fails");
        },
    };

    # $TEST_NGINX_* is expanded in --- request too; an unset one bails out.
    push @t, {
        name => 'env expansion', in_tree_only => 1, count => 3,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 2;
run_tests();
__DATA__

=== TEST 1: expansion in the request line
--- config
    location = /p { return 200 "p=$arg_p"; }
--- request
GET /p?p=$TEST_NGINX_SERVER_PORT
--- response_body eval
"p=$ENV{TEST_NGINX_SERVER_PORT}"
_EOT_
        check => sub {
            my ($out) = @_;
            like($out, qr/^ok 2 - .*response_body/m,
                 "env expansion: request line expanded")
                or diag($out);
            unlike($out, qr/^not ok/m, "env expansion: no failure");
        },
    };

    push @t, {
        name => 'unset variable', in_tree_only => 1, count => 2,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 2;
run_tests();
__DATA__

=== TEST 1: unset variable
--- config
    location = /t { return 200 "$TEST_NGINX_NO_SUCH_VARIABLE_X"; }
--- request
GET /t
--- response_body: x
_EOT_
        check => sub {
            my ($out) = @_;
            like($out, qr/Bail out!.*No environment TEST_NGINX_NO_SUCH_VARIABLE_X defined/,
                 "unset variable: bails out with a clear message")
                or diag($out);
        },
    };

    # A worker dying on a signal fails the block (through the status
    # assertion); a block whose error_log expects it does not fail.
    push @t, {
        name => 'crashed worker', in_tree_only => 1, count => 5,
        source => <<'_EOT_',
use Test::Nginx::Socket;
master_on();
workers(1);
plan tests => 5;
no_shuffle();
run_tests();

# Called from --- init (evaluated inside the runner's package).
sub Test::Nginx::Socket::kill_a_worker {
    open my $in, '<', $Test::Nginx::Socket::PidFile or die "pid file: $!";
    chomp(my $master = <$in>);
    for my $p (glob "/proc/[0-9]*") {
        open my $st, '<', "$p/stat" or next;
        my @f = split ' ', scalar <$st>;
        if ($f[3] == $master) {
            kill 'SEGV', $f[0];
            return;
        }
    }
    die "no worker of $master found";
}
__DATA__

=== TEST 1: worker killed by SIGSEGV
--- config
    location = /t { return 200 "ok"; }
--- init
kill_a_worker();
--- request
GET /t
--- response_body: ok
--- wait: 0.2

=== TEST 2: same, but expected by the test
--- config
    location = /t { return 200 "ok"; }
--- init
kill_a_worker();
--- request
GET /t
--- response_body: ok
--- wait: 0.2
--- error_log
exited on signal 11

_EOT_
        check => sub {
            my ($out) = @_;
            # (TAP on stdout and diagnostics on stderr may interleave)
            like($out, qr/^not ok 1 - .*TEST 1: .*status code ok$/m,
                 "crashed worker: status assertion fails")
                or diag($out);
            like($out, qr/^#\s+error\.log: .*\[alert\].*exited on signal 11$/m,
                 "crashed worker: the log line is shown");
            like($out, qr/^ok 3 - .*TEST 2: .*status code ok$/m,
                 "crashed worker: expected crash does not fail the block");
            unlike($out, qr/Looks like you planned/, "crashed worker: count kept");
        },
    };

    # The read timeout (--- timeout) fails the status assertion.
    push @t, {
        name => 'client timeout', in_tree_only => 1, count => 4,
        source => <<'_EOT_',
use Test::Nginx::Socket;
plan tests => 2;
run_tests();
__DATA__

=== TEST 1: slow response
--- config
    location = /slow {
        limit_rate 1;
        limit_rate_after 0;
        return 200 "0123456789";
    }
--- request
GET /slow
--- timeout: 0.5
--- response_body: 0123456789
_EOT_
        check => sub {
            my ($out, $exit, $secs) = @_;
            like($out, qr/^not ok 1 - .*status code ok$/m,
                 "client timeout: status assertion fails")
                or diag($out);
            like($out, qr/^#\s+client socket timed out/m,
                 "client timeout: the reason is shown");
            ok($secs < 20, "client timeout: no hang (${secs}s)");
        },
    };

    # master_on() + workers(2): portable, runs under both runners.
    push @t, {
        name => 'master and workers', in_tree_only => 0, count => 2,
        source => <<'_EOT_',
use Test::Nginx::Socket;
master_on();
workers(2);
log_level('notice');
plan tests => 3;
run_tests();
__DATA__

=== TEST 1: two workers under a master
--- config
    location = /t { return 200 "ok"; }
--- request
GET /t
--- response_body: ok
--- grep_error_log eval
qr/start worker process \d+/
--- grep_error_log_out eval
qr/\A(?:start worker process \d+\n){2}\z/
_EOT_
        check => sub {
            my ($out) = @_;
            like($out, qr/^ok 3 - .*grep_error_log_out/m,
                 "master and workers: two workers started")
                or diag($out);
        },
    };

    return @t;
}

__DATA__

=== TEST 1: sanity
--- tests: 2
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello



=== TEST 2: response_headers, "!Name" and the body
--- tests: 5
--- config
    location = /t {
        add_header X-Foo bar;
        return 200 "ok";
    }
--- request
GET /t
--- response_headers
X-Foo: bar
!X-Bar
Content-Type: text/plain
--- response_body chomp
ok



=== TEST 3: response_body_like matches the whole body with /s
--- tests: 2
--- config
    location = /t { return 200 "first line\nthe answer is 42\n"; }
--- request
GET /t
--- response_body_like: first.*answer is \d+$



=== TEST 4: error_log and no_error_log (a missing file)
--- tests: 4
--- config
    location = /t { return 200; }
--- request
GET /nope.txt
--- error_code: 404
--- error_log
No such file or directory
--- no_error_log
[crit]
Permission denied



=== TEST 5: error_log / no_error_log with eval (array, qr//)
--- tests: 4
--- config
    location = /t { return 200; }
--- request
GET /nope.txt
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*nope\.txt" failed/, "[error]"]
--- no_error_log eval
qr/\[alert\]/



=== TEST 6: request eval: one connection per request, arrays per request
--- tests: 6
--- config
    location = /a { return 200 "a"; }
    location = /b { return 201 "b:$arg_x"; }
--- request eval
["GET /a", "GET /b?x=1"]
--- error_code eval
[200, 201]
--- response_body eval
["a", "b:1"]
--- no_error_log
[error]



=== TEST 7: pipelined_requests on one keep-alive connection
--- tests: 4
--- config
    location = /a { return 200 "a"; }
    location = /b { return 201 "b:$arg_x:$http_connection"; }
--- pipelined_requests eval
["GET /a", "GET /b?x=2"]
--- error_code eval
[200, 201]
--- response_body eval
["a", "b:2:close"]



=== TEST 8: HEAD has no body
--- tests: 3
--- config
    location = /t { return 200 "hello\n"; }
--- request
HEAD /t
--- response_headers
Content-Length: 6
--- response_body eval
""



=== TEST 9: POST body (trimmed, Content-Length added) seen by nginx
--- tests: 3
--- config
    # proxy_pass reads the request body into memory; the upstream answers
    # 418, which error_page turns into an internal redirect to a location
    # that can return $request_body.
    location = /echo_body {
        client_body_buffer_size 64k;
        client_body_in_single_buffer on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/teapot;
        proxy_intercept_errors on;
        error_page 418 = /show_body;
    }
    location = /teapot { return 418; }
    location = /show_body {
        return 200 "got: [$request_body] len=$http_content_length";
    }
--- more_headers
Content-Type: text/plain
--- request
POST /echo_body
  hello world

--- response_body chomp
got: [hello world] len=11
--- response_headers
Content-Type: text/plain



=== TEST 10: request split into packets, with a delay
--- tests: 2
--- config
    location = /echo_body {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/teapot;
        proxy_intercept_errors on;
        error_page 418 = /show_body;
    }
    location = /teapot { return 418; }
    location = /show_body { return 200 "got: $request_body"; }
--- request eval
[["POST /echo_body\nhel", {value => "lo", delay_before => 0.1}]]
--- response_body chomp
got: hello



=== TEST 11: chunked response (sub_filter drops Content-Length)
--- tests: 3
--- config
    location = /t {
        default_type text/html;
        sub_filter hello world;
        return 200 "hello chunked\n";
    }
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
--- response_body
world chunked



=== TEST 12: big chunked response through proxy_pass to the same server
--- tests: 5
--- user_files eval
[["big.txt", ("a" x 20000) . "\n"]]
--- config
    location = /big.txt {
        default_type text/html;
        sub_filter_once off;
        sub_filter a b;
        root html;
    }
    location = /proxied {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big.txt;
    }
--- request
GET /proxied
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body eval
("b" x 20000) . "\n"
--- no_error_log
[error]



=== TEST 13: HTTP/1.0 request
--- tests: 2
--- config
    location = /t { return 200 "$server_protocol $http_host"; }
--- request
GET /t HTTP/1.0
--- response_body: HTTP/1.0 localhost



=== TEST 14: more_headers and comments before the request line
--- tests: 2
--- config
    location = /t { return 200 "foo=$http_x_foo bar=$http_x_bar"; }
--- more_headers
# a comment line
X-Foo: some value
X-Bar:baz
--- request
# the request line may follow comments
GET /t
--- response_body: foo=some value bar=baz



=== TEST 15: connection closed without a response: empty status
--- tests: 2
--- config
    location = /t { return 444; }
--- request
GET /t
--- error_code:
--- response_body eval
""



=== TEST 16: raw_request
--- tests: 2
--- config
    location = /t { return 200 "raw $server_protocol"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body: raw HTTP/1.0



=== TEST 17: response_headers_like
--- tests: 3
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- response_headers_like
Server: nginx(/[\d.]+)?
Content-Type: text/.*



=== TEST 18: wait and timeout sections
--- tests: 3
--- config
    location = /t { return 200 "x"; }
--- request
GET /t
--- wait: 0.1
--- timeout: 2s
--- response_body: x
--- no_error_log
[error]



=== TEST 19: response_body eval with a regex
--- tests: 2
--- config
    location = /t { return 200 "hello, world\n"; }
--- request
GET /t
--- response_body eval
qr/^hel+o, \w+$/m



=== TEST 20: a bad directive is detected (must_die)
--- tests: 2
--- config
    location = /t { no_such_directive 1; }
--- request
GET /t
--- must_die
--- error_log
unknown directive "no_such_directive"



=== TEST 21: main_config and http_config
--- tests: 2
--- main_config
    env TEST_NGINX_RUNNER_SELFTEST=yes;
--- http_config
    map $uri $where {
        default "http_config works";
    }
--- config
    location = /t { return 200 "$where"; }
--- request
GET /t
--- response_body: http_config works
