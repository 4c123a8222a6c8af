# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Reloads that fail leave the running nginx serving: the master lives on,
# its workers keep answering, and a later good configuration loads.  What
# can fail (the store's path) fails at "nginx -t" and at a reload, never
# in a step that would end the master.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use Time::HiRes ();

# The blocks' http{} lines: SdTest's plumbing (store, SES simulator; see
# t/lib/SdTest.pm), plus the directives this file is about.
our $HttpConfig = SdTest::http_config();

master_on();
workers(2);
repeat_each(1);
no_shuffle();
check_accum_error_log();

our $Conf;

# Rewrites the running nginx's configuration with EDIT (a code ref over
# its text), sends HUP and waits until the error log shows WAIT_FOR (a
# regex); returns whether it showed.
sub reload_with {
    my ($edit, $wait_for) = @_;
    my $conf = SdTest::server_root() . '/conf/nginx.conf';
    my $log = SdTest::server_root() . '/logs/error.log';

    open my $in, '<', $conf or die "$conf: $!";
    my $text = do { local $/; <$in> };
    close $in;
    $Conf //= $text;

    $text = $edit->($Conf);
    open my $out, '>', $conf or die "$conf: $!";
    print $out $text;
    close $out;

    kill 'HUP', SdTest::master_pid();

    return SdTest::wait_until(20, sub {
        open my $l, '<', $log or return 0;
        my $all = do { local $/; <$l> };
        return $all =~ $wait_for;
    });
}

# Writes "name=value" lines to html/verdict.txt for the block's requests.
sub verdict {
    my (%v) = @_;
    my $file = SdTest::server_root() . '/html/verdict.txt';
    open my $o, '>', $file or die "$file: $!";
    print $o map { "$_=$v{$_}\n" } sort keys %v;
    close $o;
}

# The master and its workers, before and after a failed reload.
sub failed_reload {
    my ($edit, $error) = @_;
    my $master = SdTest::master_pid();
    # both workers up first: under valgrind one may still be starting,
    # and a reload must then find the same two
    SdTest::wait_until(20, sub { my @w = SdTest::worker_pids(); @w == 2 });
    my @before = sort { $a <=> $b } SdTest::worker_pids();

    # "nginx -t" on the new configuration says what the reload will meet
    my $root = SdTest::server_root();
    my $bin = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
    my $test_conf = "$root/conf/test.conf";
    open my $in, '<', "$root/conf/nginx.conf" or die $!;
    my $text = do { local $/; <$in> };
    close $in;
    open my $tc, '>', $test_conf or die $!;
    # its own pid file: "nginx -t" truncates the one it is given
    (my $tested = $edit->($text)) =~ s{^pid\s+\S+;}{pid $root/logs/test.pid;}m;
    print $tc $tested;
    close $tc;
    my $out = `$bin -t -p $root/ -c $test_conf 2>&1`;
    my $test = $? != 0 && $out =~ $error ? 'refused' : "passed: $out";

    my $logged = reload_with($edit, $error);
    Time::HiRes::sleep(0.3);        # the master would be gone by now
    my @after = sort { $a <=> $b } SdTest::worker_pids();

    return (
        test    => $test,
        logged  => $logged ? 'yes' : 'no',
        master  => kill(0, $master) ? 'alive' : 'gone',
        workers => "@before" eq "@after" && @after == 2 ? 'same' : "changed",
    );
}

run_tests();

__DATA__

=== TEST 1: a reload with a store in a folder that does not exist is refused; the old nginx serves on, and a good reload then loads
--- http_config eval: $::HttpConfig
--- init
my %v = ::failed_reload(
    sub { my $t = shift; $t =~ s{(sender_domains_db )\S+}{$1/nonexistent-sd/s.mdb}; $t },
    qr{sender_domains_db: cannot create or write "/nonexistent-sd/s\.mdb"});
my @old = SdTest::worker_pids();
my $ok = ::reload_with(sub { my $t = shift; $t =~ s{(sender_domains_ses_rate )\d+}{${1}50}; $t },
                       qr/exited with code 0|gracefully shutting down/);
SdTest::wait_until(10, sub {
    my %o = map { $_ => 1 } @old;
    my @new = SdTest::worker_pids();
    @new == 2 && !grep { $o{$_} } @new;
});
my %o = map { $_ => 1 } @old;
$v{good_reload} = (grep { $o{$_} } SdTest::worker_pids()) ? 'old workers' : 'new workers';
::verdict(%v);
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /verdict.txt { root html; }
--- request eval
["GET /verdict.txt", "GET /api/"]
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^good_reload=new workers\nlogged=yes\nmaster=alive\ntest=refused\nworkers=same\n$/s, qr/^\{"plan_ok":true/]
--- error_log
cannot create or write "/nonexistent-sd/s.mdb"
--- timeout: 40



=== TEST 2: a failed reload after a location with sender_domains_api does not make a later configuration without the module's directives fail
--- http_config eval: $::HttpConfig
--- init
my %v = ::failed_reload(
    sub { my $t = shift; $t =~ s{(location = /verdict\.txt)}{location /x/ { sender_domains_api; } no_such_directive_sd; $1}; $t },
    qr/unknown directive "no_such_directive_sd"/);
# a valid configuration that does not use the module's directives at all
my $ok = ::reload_with(sub {
    my $t = shift;
    $t =~ s{^\s*sender_domains_\w+[^;]*;\s*$}{}mg;
    $t =~ s{location /api/ \{\s*\}}{location /plain/ { return 200 "plain\\n"; }};
    $t
}, qr/sender_domains_api requires|gracefully shutting down/);
my $log = SdTest::server_root() . '/logs/error.log';
open my $l, '<', $log; my $all = do { local $/; <$l> };
$v{second_reload} = $all =~ /sender_domains_api requires/ ? 'refused' : 'loaded';
::verdict(%v);
SdTest::wait_until(10, sub {
    my ($st, $b) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, GET => '/plain/');
    $b eq "plain\n";
});
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /verdict.txt { root html; }
--- request eval
["GET /verdict.txt", "GET /plain/"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^logged=yes\nmaster=alive\nsecond_reload=loaded\ntest=refused\nworkers=same\n$/s, qr/^plain$/]
--- error_log
unknown directive "no_such_directive_sd"
--- timeout: 40



=== TEST 3: nginx -t refuses a store folder that does not exist
--- http_config
    sender_domains_db /nonexistent-sd/s.mdb;
    sender_domains_default_from "Reports <reports@platform.example>";
--- config
--- must_die
--- error_log
sender_domains_db: cannot create or write "/nonexistent-sd/s.mdb"



=== TEST 4: nginx -t refuses a store where no file can be created (a read-only file system)
--- http_config
    sender_domains_db /proc/sender-domains.mdb;
    sender_domains_default_from "Reports <reports@platform.example>";
--- config
--- must_die
--- error_log
sender_domains_db: cannot create or write "/proc/sender-domains.mdb"
