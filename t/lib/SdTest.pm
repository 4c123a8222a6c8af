# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
package SdTest;

# Shared set-up for the module's Test::Nginx files:
#   - starts one SES simulator (t/ses-sim/ses_sim.py) per .t file and
#     exports its port as $TEST_NGINX_SES_PORT;
#   - helpers that return the nginx text blocks show in their sections,
#     OpenResty style (our $HttpConfig = SdTest::http_config(...) at the
#     top of a file, "--- http_config eval: $::HttpConfig" in a block):
#     http_config() is the module's plumbing (store, SES simulator, rate,
#     timeout, cooldowns off) plus the directives the file is about,
#     api_config() the standard /api/ location (callers from X-WS, X-Role,
#     X-Plan, X-Trial-Ends headers) and the /sim/ proxy; a block without
#     --- http_config or --- config is refused, so no configuration a
#     block depends on is left unsaid there;
#   - main_config: the AWS credentials the module reads from its
#     environment (a block can give its own);
#   - resets the simulator before each block (fresh "AWS" account);
#   - small helpers for blocks' --- init code: sim() calls the simulator's
#     control API, background() runs requests while the block's own
#     requests go on, worker_pids() finds nginx workers, wait_until()
#     polls for a condition, active_connections() reads stub_status;
#   - for the paged card list: cursor() makes the "next" value of a page
#     that ended on a row, list_summary() turns an answer into one line
#     ("a.com b.com next=CURSOR", "error=CODE") for --- response_body_filters.

use strict;
use warnings;

use Test::Nginx::Socket ();
use IO::Socket::INET;
use File::Spec;
use Cwd qw(abs_path);
use POSIX ();
use Time::HiRes ();

our $SimPid;
our $SimPort;
our $Root;

BEGIN {
    my $here = abs_path(__FILE__);
    ($Root = $here) =~ s{/t/lib/SdTest\.pm$}{};
}

sub import {
    my ($class, %opt) = @_;

    die "SdTest: http_extra is gone; show the directives in the blocks "
        . "(--- http_config eval: \$::HttpConfig, SdTest::http_config())\n"
        if exists $opt{http_extra};

    start_sim(@{ $opt{sim_args} || [] });

    Test::Nginx::Socket::add_block_preprocessor(sub {
        my $block = shift;

        if (!defined $block->main_config) {
            $block->set_value('main_config', main_config());
        }

        for my $s (qw(http_config config)) {
            next if defined $block->$s;
            die $block->name . ": no --- $s: show the block's configuration"
                . " (e.g. --- $s eval: \$::"
                . ($s eq 'config' ? 'Config' : 'HttpConfig')
                . ", see t/lib/SdTest.pm)\n";
        }

        if (!defined $block->init) {
            $block->set_value('init', 'SdTest::sim_reset();');
        }
    });
}

sub main_config {
    return <<'EOF';
env AWS_ACCESS_KEY_ID=AKIDSIMULATOR;
env AWS_SECRET_ACCESS_KEY=sim-secret-key;
EOF
}

# The http{} lines every file starts from: the store under the server
# root, the SES simulator, a call rate no test reaches by accident, a
# short SES timeout and the per-identity cooldowns off (the module's
# clock cannot be moved; t/073-fairness.t gives their defaults).  EXTRA
# is appended; a directive in EXTRA replaces the line of the same name
# here (so "sender_domains_ses_rate 1;" changes the rate, and a comment
# "# sender_domains_refresh_cooldown: the default" leaves it to the module).
our @HttpPlumbing = (
    'sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/senders.mdb 16m;',
    'sender_domains_default_from "Platform Reports <reports@platform.example>";',
    'sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;',
    'sender_domains_ses_rate 100;',
    'sender_domains_ses_timeout 3s;',
    'sender_domains_refresh_cooldown 0;',
    'sender_domains_resend_cooldown 0;',
);

sub http_config {
    my $extra = shift // '';
    my %given = map { $_ => 1 } $extra =~ /^\s*#?\s*(\w+)/mg;
    my $text = '';
    for my $line (@HttpPlumbing) {
        my ($name) = $line =~ /^(\w+)/;
        $text .= "    $line\n" unless $given{$name};
    }
    $extra .= "\n" if length $extra && $extra !~ /\n\z/;
    return $text . $extra;
}

# The standard server{} text: the API under /api/ with the caller taken
# from request headers, and /sim/ proxying the simulator's control API
# (a block can "publish DNS" between its requests).  EXTRA (more
# locations) is appended.
sub api_config {
    my $extra = shift // '';
    return <<'EOF' . $extra;
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
        sender_domains_trial_ends $http_x_trial_ends;
    }

    location /sim/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SES_PORT/_sim/;
    }
EOF
}

# A webhook receiver on the test's own server (t/076, t/081):
# hook_locations() is /hook, which logs each event's body to hooks.log
# (served at /hooks.log) and answers 204; hook_http_config(EXTRA) is
# http_config(EXTRA) plus the webhook to it, signed with html/wh.secret
# (a block's user_files).
sub hook_locations {
    return <<'EOF';
    location = /hook {
        access_log $TEST_NGINX_SERVER_ROOT/logs/hooks.log hooks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/received;
    }
    location = /received {
        return 204;
    }
    location = /hooks.log {
        alias $TEST_NGINX_SERVER_ROOT/logs/hooks.log;
    }
EOF
}

sub hook_http_config {
    my $extra = shift // '';
    $extra .= "\n" if length $extra && $extra !~ /\n\z/;
    return http_config($extra . <<'EOF');
    log_format hooks escape=none '$request_body';
    sender_domains_webhook http://127.0.0.1:$TEST_NGINX_SERVER_PORT/hook
                           $TEST_NGINX_SERVER_ROOT/html/wh.secret;
EOF
}

sub start_sim {
    my @args = @_;
    my $py = '/usr/bin/python3';
    my $sim = "$Root/t/ses-sim/ses_sim.py";

    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        close $r;
        POSIX::setsid();
        open STDOUT, '>&', $w or die;
        open STDERR, '>', File::Spec->devnull;
        exec $py, $sim, '--port', '0', @args or POSIX::_exit(127);
    }

    close $w;
    my $line = '';
    my $deadline = time + 15;
    while (time < $deadline) {
        my $got = <$r>;
        last unless defined $got;
        if ($got =~ m{listening on http://[\d.]+:(\d+)}) {
            $SimPort = $1;
            last;
        }
    }
    die "SES simulator did not start" unless $SimPort;

    $SimPid = $pid;
    $ENV{TEST_NGINX_SES_PORT} = $SimPort;

    # keep the pipe open in the background so the simulator never gets
    # SIGPIPE; it is closed with the process
    $SdTest::SimOut = $r;
}

sub stop_sim {
    # waitpid sets $?, which an END block would make the test's exit code
    local $?;

    return unless $SimPid;
    kill 'TERM', -$SimPid;
    kill 'TERM', $SimPid;
    # bounded: a simulator that does not exit within 10 s of SIGTERM (it
    # once hung in CI for 17 minutes) is killed, and the test says so
    my $deadline = time + 10;
    while (waitpid($SimPid, POSIX::WNOHANG()) == 0) {
        if (time > $deadline) {
            Test::More::diag("SES simulator $SimPid ignored SIGTERM for 10 s: SIGKILL");
            kill 'KILL', -$SimPid;
            kill 'KILL', $SimPid;
            waitpid $SimPid, 0;
            last;
        }
        select undef, undef, undef, 0.05;
    }
    undef $SimPid;
}

END { stop_sim() }

# A raw HTTP/1.0 call to a port on loopback; returns (status, body).
sub http {
    my ($port, $method, $path, $body, $headers) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 10)
        or die "connect $port: $!";
    $body //= '';
    my $h = '';
    for my $k (sort keys %{ $headers || {} }) {
        $h .= "$k: $headers->{$k}\r\n";
    }
    $h .= "Content-Type: application/json\r\n" if length $body
        && $h !~ /content-type/i;
    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n$h"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    return ($status // 0, $rbody // '');
}

# A call to the module's API under /api on the test's nginx, as a
# professional-plan caller: workspace "acme" and role "admin" unless given.
# Returns (status, body).
sub api {
    my ($method, $path, $body, $ws, $role) = @_;
    return http($ENV{TEST_NGINX_SERVER_PORT}, $method, "/api$path", $body,
                {'X-WS' => $ws // 'acme', 'X-Role' => $role // 'admin',
                 'X-Plan' => 'professional'});
}

sub sim {
    my ($method, $path, $body) = @_;
    my ($st, $b) = http($SimPort, $method, "/_sim$path", $body);
    die "simulator $method $path: $st $b" if $st >= 400 && $st != 404
                                             && $st != 410;
    return $b;
}

sub sim_reset { sim(POST => '/reset', '{}') }

# Runs a list of requests against nginx in a child process, in parallel
# (one child each), writing "status body" lines to "$file.N"; returns pids.
sub background {
    my ($file, @reqs) = @_;
    my @pids;
    my $port = $ENV{TEST_NGINX_SERVER_PORT};
    my $i = 0;
    for my $req (@reqs) {
        my $n = $i++;
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my ($st, $b) = eval { http($port, @$req) };
            $st //= 0;
            if (open my $fh, '>', "$file.$n.tmp") {
                print $fh "$st $b";
                close $fh;
                rename "$file.$n.tmp", "$file.$n";
            }
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    return @pids;
}

sub wait_pids { waitpid $_, 0 for @_ }

# How many of the N requests background() answered into FILE got each
# status: a hash ref {status => count}, 0 for no answer.
sub statuses {
    my ($file, $n) = @_;
    my %n;
    for my $j (0 .. $n - 1) {
        open my $fh, '<', "$file.$j" or next;
        my ($st) = (<$fh> // '') =~ /^(\d+)/;
        $n{$st // 0}++;
    }
    return \%n;
}

# Polls COND (a code ref) every 20 ms until it returns true or SECS have
# passed; returns its last value.  For --- init code that must wait for
# nginx or the simulator to reach a state: a fixed sleep is either too
# short under valgrind (20-50 times slower) or wasted time without it.
sub wait_until {
    my ($secs, $cond) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    my $ok;
    until (($ok = $cond->()) || Time::HiRes::time() >= $deadline) {
        Time::HiRes::sleep(0.02);
    }
    return $ok;
}

# nginx's "Active connections" from a stub_status location (default
# /status), the connection asking included; -1 when there is none.
sub active_connections {
    my ($path) = @_;
    my ($st, $b) = http($ENV{TEST_NGINX_SERVER_PORT}, GET => $path // '/status');
    return $st == 200 && $b =~ /^Active connections: (\d+)/ ? $1 : -1;
}

# The cursor of a page that ended on row NAME of KIND ("m" managed, "l"
# legacy): base64url of the kind and the name (docs/decisions.md).
sub cursor {
    my ($kind, $name) = @_;
    require MIME::Base64;
    my $c = MIME::Base64::encode_base64($kind . $name, '');
    $c =~ tr{+/}{-_};
    $c =~ s/=+$//;
    return $c;
}

sub list_summary {
    my $body = shift;
    require JSON::PP;
    my $j = eval { JSON::PP::decode_json($body) };
    return "not json: $body" unless ref $j eq 'HASH';
    return "error=$j->{error}{code}" if $j->{error};
    return "ok" unless exists $j->{identities};
    my $s = join ' ', map { $_->{identity} } @{ $j->{identities} || [] };
    $s .= ' next=' . (!exists $j->{next} ? 'absent'
                      : defined $j->{next} ? $j->{next} : 'null');
    return $s;
}

sub server_root {
    return $ENV{TEST_NGINX_SERVER_ROOT} // $ENV{TEST_NGINX_SERVROOT};
}

# The master's live children, found by their parent pid alone: under
# valgrind a worker's name in /proc/<pid>/stat is "memcheck-amd64-", not
# "nginx".  The name may hold spaces or parentheses, so the fields are
# read after its last ")".  Zombies (a killed worker not yet reaped) are
# left out.
sub worker_pids {
    my $master = master_pid() or return ();
    my @pids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        close $fh;
        my $end = rindex $line, ')';
        next if $end < 0;
        my ($pid) = $line =~ /^(\d+) /;
        my ($state, $ppid) = split ' ', substr($line, $end + 1);
        next unless defined $pid && defined $ppid;
        push @pids, $pid if $ppid == $master && $state !~ /^[ZX]$/;
    }
    return sort { $a <=> $b } @pids;
}

sub master_pid {
    my $f = server_root() . '/logs/nginx.pid';
    open my $fh, '<', $f or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

1;
