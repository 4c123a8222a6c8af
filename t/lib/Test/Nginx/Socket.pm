# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
package Test::Nginx::Socket;

# In-tree, from-scratch implementation of the Test::Nginx::Socket test
# scaffold (the data-driven nginx test format used by openresty's CPAN
# module).  It depends only on Test::Base (Debian: libtest-base-perl) and
# core Perl, so `prove -I t/lib -r t` works on a stock Debian box, while
# `prove -r t` on a machine with the CPAN module runs the very same .t files.
#
# Compatibility rule followed throughout: a .t file must produce the same
# number of assertions here as under the CPAN module (plan formulas such as
# `repeat_each() * blocks() * 3` depend on it).  Where this runner detects
# more problems than the CPAN one (alerts in the error log, crashed workers,
# socket timeouts, bad chunked encoding, nginx failing to start), it folds
# them into the request's existing "status code ok" assertion instead of
# adding a `fail`, so the count never changes.  See t/README.md.

use strict;
use warnings;

# -base (lower case): inherit from Test::Base without Spiffy's source filter,
# so this file is plain Perl.  Test::Base's own exports (plan, is, like,
# blocks, ...) reach the .t files through Spiffy's import of all base classes.
use Test::Base -base;

use Digest::MD5 ();
use Digest::SHA ();
use Errno ();
use File::Path ();
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();        # --- response_json; JSON::PP::true in its eval
use List::Util ();
use POSIX ();
use Socket ();
# "--- init" blocks are evaluated in this package: with Time::HiRes's
# sleep, "sleep 0.3" there waits 0.3 s instead of CORE::sleep's 0 s
use Time::HiRes qw(sleep);
use Time::Local ();

our $VERSION = '0.30_intree';

# Lets .t files (e.g. t/000-runner.t) tell this runner from the CPAN one.
our $IN_TREE = 1;

our @EXPORT = qw(
    run_tests repeat_each workers master_on master_off
    master_process_enabled log_level no_shuffle no_long_string
    env_to_nginx no_root_location worker_connections config_preamble
    add_block_preprocessor add_cleanup_handler add_response_body_check
    bail_out is_str timeout server_name server_addr server_port
    server_port_for_client server_root html_dir check_accum_error_log
    no_nginx_manager
);

# ---------------------------------------------------------------------------
# Settings (same names, defaults and environment variables as the CPAN module)
# ---------------------------------------------------------------------------

our $RepeatEach        = 1;
our $Workers           = 1;
our $WorkerConnections = 64;
our $NoShuffle         = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoLongString      = 0;
our $NoRootLocation    = 0;
our $CheckAccumErrLog  = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG} || 0;
our $NoNginxManager    = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $ConfigPreamble    = '';
our $LogLevel          = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $Timeout           = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep    = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ServerAddr        = '127.0.0.1';
our $ServerName        = 'localhost';
our $UseValgrind       = $ENV{TEST_NGINX_USE_VALGRIND};
our $CheckLeak         = $ENV{TEST_NGINX_CHECK_LEAK};
our $WorkerUser        = $ENV{TEST_NGINX_WORKER_USER};
our $LoadModules       = $ENV{TEST_NGINX_LOAD_MODULES};
our $ResponseLog       = $ENV{TEST_NGINX_RESPONSE_LOG};   # see _log_responses
our $NginxBinary       = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $MasterProcessEnabled =
    _on_off($ENV{TEST_NGINX_MASTER_PROCESS}) || 'off';

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;

our $PortTries = 5;

our $ServRoot;
if ($ENV{TEST_NGINX_RANDOMIZE}) {
    # Random port + private server root, so `prove -jN` (or two people on
    # one machine) do not fight over port 1984 and t/servroot.
    $ServerPort = _gen_rand_port({})
        or die "Test::Nginx::Socket: no free port found\n";
    $ServerPortForClient = $ServerPort;
    $ServRoot = File::Spec->rel2abs("t/servroot_$ServerPort");

} else {
    $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT}
                                    || 't/servroot');
}
$ServRoot =~ s{/+$}{};

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $StderrFile = "$LogDir/nginx.stderr";
our $PidFile    = "$LogDir/nginx.pid";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";

# Sections may refer to these.  TEST_NGINX_SERVER_ROOT is what the CPAN
# module sets (use it in portable .t files); TEST_NGINX_SERVROOT is set too
# for convenience.
$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
    if $ENV{TEST_NGINX_RANDOMIZE} || !defined $ENV{TEST_NGINX_SERVER_PORT};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_SERVROOT}    = $ServRoot;

our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @ResponseBodyChecks;

# Mutable state of the run.
our $MainPid = $$;
our %Nginx;             # the nginx we started: pid, exited, status, ...
our $ErrLogFilePos = 0; # error.log offset already looked at by checks
our $PrevConfig;        # for blocks without --- config
our $NginxVersion;      # e.g. 1.022001
our $NginxConfigure = '';
our $CleanedUp = 0;

# ---------------------------------------------------------------------------
# Exported setters / getters
# ---------------------------------------------------------------------------

sub repeat_each (@) { $RepeatEach = shift if @_; return $RepeatEach }
sub workers (@) { $Workers = shift if @_; return $Workers }
sub worker_connections (@) {
    $WorkerConnections = shift if @_;
    return $WorkerConnections;
}
sub log_level (@) { $LogLevel = shift if @_; return $LogLevel }
sub timeout (@) { $Timeout = shift if @_; return $Timeout }
sub server_name (@) { $ServerName = shift if @_; return $ServerName }
sub server_addr (@) { $ServerAddr = shift if @_; return $ServerAddr }
sub server_port (@) { $ServerPort = shift if @_; return $ServerPort }
sub server_port_for_client (@) {
    $ServerPortForClient = shift if @_;
    return $ServerPortForClient;
}
sub server_root () { return $ServRoot }
sub html_dir () { return $HtmlDir }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub master_process_enabled (@) {
    $MasterProcessEnabled = $_[0] ? 'on' : 'off' if @_;
    return $MasterProcessEnabled;
}
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

# Like the CPAN module: the most recently added preprocessor runs first, and
# every preprocessor sees the block before its name gets the "$0 " prefix.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

# Cleanup handlers run once, after all blocks (also on bail_out / die /
# SIGINT), most recently added first.
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }

# Called as ($block, $body, $req_idx, $repeated_req_idx, $dry_run).
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc)
        if ref $expected && ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc) if $NoLongString;
    return Test::Base::is($got, $expected, $desc);
}

our $BailedOut = 0;

sub bail_out (@) {
    my $msg = join '', @_;
    $BailedOut = 1;
    _cleanup();
    Test::More::BAIL_OUT($msg);
}

# ---------------------------------------------------------------------------
# Main loop
# ---------------------------------------------------------------------------

sub run_tests () {
    _find_nginx();

    if ($CheckLeak) {
        Test::More::diag("TEST_NGINX_CHECK_LEAK is not supported by the "
                         . "in-tree runner; running the normal checks");
    }

    _install_signal_handlers();

    my @blocks = Test::Base::blocks();
    @blocks = List::Util::shuffle(@blocks) unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        _run_block($block);
    }

    _cleanup();
}

# Locates the nginx binary and its version (for -e and temp path support).
sub _find_nginx {
    my $bin = _can_run($NginxBinary);
    if (!$bin && !$ENV{TEST_NGINX_BINARY} && -x '/usr/sbin/nginx') {
        # Debian installs nginx in /usr/sbin, which is not always in PATH.
        $bin = '/usr/sbin/nginx';
    }
    bail_out("Cannot find the nginx executable \"$NginxBinary\" "
             . "(set TEST_NGINX_BINARY or PATH)") unless $bin;
    $NginxBinary = $bin;

    my $out = `$bin -V 2>&1`;
    bail_out("Failed to run \"$bin -V\": $out") if $? != 0;
    if ($out =~ m{nginx/(\d+)\.(\d+)\.(\d+)}) {
        $NginxVersion = sprintf "%d.%03d%03d", $1, $2, $3;
    }
    $NginxConfigure = $1 if $out =~ /configure arguments:(.*)/;
}

sub _can_run {
    my $cmd = shift;
    return (-f $cmd && -x _) ? $cmd : undef if $cmd =~ m{/};
    for my $dir (split /:/, $ENV{PATH} // '') {
        next if $dir eq '';
        return "$dir/$cmd" if -f "$dir/$cmd" && -x _;
    }
    return undef;
}

# One test block: start nginx, run the requests repeat_each times, stop nginx,
# then emit the collected assertions.  Assertions are collected rather than
# emitted on the spot so that problems found later (an [alert] written while
# nginx shuts down, a worker that crashed, valgrind errors) can still be
# reported through the block's own status assertion.
sub _run_block {
    my $block = shift;
    my $name  = $block->name;
    my @checks;
    my $rand_ports = _rand_ports($block);

    # --- skip_eval / skip_nginx / skip_nginx2 / todo: CPAN semantics, i.e.
    # N skipped (or todo) assertions per repetition instead of the block.
    my ($skip_n, $skip_reason) = _should_skip($block);
    if (defined $skip_n) {
        for my $rep (1 .. $RepeatEach) {
            push @checks, _skip_check("$name - $skip_reason", $skip_n);
        }
        _emit(\@checks);
        return;
    }

    my $config = $block->config;
    if (!defined $config) {
        # The CPAN module keeps the previous block's server running; we
        # restart it with the previous block's configuration.
        if (!defined $PrevConfig && !$NoNginxManager) {
            bail_out("$name - No '--- config' section specified and "
                     . "could not get previous one.");
        }
        $config = $PrevConfig;
    }
    $PrevConfig = $config;
    my $raw_config = $config;
    _move_port_if_taken($name, $rand_ports) unless $NoNginxManager;
    $config = _expand_env($config, $name, $rand_ports);

    local $LogLevel = $block->log_level || $LogLevel;

    if (defined $block->must_die) {
        _run_must_die_block($block, $config, $rand_ports, \@checks);
        _emit(\@checks);
        return;
    }

    my $start_problem;
    if (!$NoNginxManager) {
        for my $try (1 .. $PortTries) {
            _setup_server_root();
            _write_user_files($block, $rand_ports);
            _write_config_file($block, $config, $rand_ports);
            $start_problem = _start_nginx($name);
            last unless defined $start_problem && $try < $PortTries
                        && _lost_port_race($start_problem);
            # another process bound the port between our check and
            # nginx's bind(): the same block on another port
            _move_port($name, "was taken while nginx started", $rand_ports);
            $config = _expand_env($raw_config, $name, $rand_ports);
        }
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    my $todo = _todo_spec($block);

    $ErrLogFilePos = 0;
    my $last_status;
    for my $rep (0 .. $RepeatEach - 1) {
        _write_user_files($block, $rand_ports) if $rep > 0;

        if ($todo) {
            push @checks, _todo_check("$name - $todo->[1]", $todo->[0]);
            next;
        }

        my $st = _run_requests($block, $rep, $start_problem, \@checks);
        $last_status = $st if $st;
    }

    if (!$NoNginxManager) {
        my @problems = _stop_nginx($name);
        # What nginx logged while stopping (and after the last check).
        my $lines = _error_log_lines();
        push @problems, map { s/^error\.log: /error.log (at shutdown): /r }
                        _log_problems($block, $lines);
        _check_shutdown_error_log($block, $lines, \@checks);
        if (@problems) {
            if ($last_status) {
                push @{ $last_status->{problems} }, @problems;
            } else {
                Test::More::diag("WARNING: $name - $_") for @problems;
            }
        }
        _append_total_error_log($name);
    }

    _emit(\@checks);
}

# --- must_die: nginx has to refuse to start.  One assertion per repetition
# for the exit status plus the error log checks, as in the CPAN module.
sub _run_must_die_block {
    my ($block, $config, $rand_ports, $checks) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    _setup_server_root();
    _write_user_files($block, $rand_ports);
    _write_config_file($block, $config, $rand_ports);

    $ErrLogFilePos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        my $problem = _start_nginx($name);
        my $status = $Nginx{status};
        my @extra;
        if (!defined $problem) {
            push @extra, "nginx must die but it does not; killing it";
            _stop_nginx($name);
            $status = 0;
        } elsif (!defined $status) {
            push @extra, $problem;   # e.g. it neither died nor started
        }
        my $exit_code = defined $status ? ($status >> 8) : undef;
        my $signal    = defined $status ? ($status & 127) : undef;
        my $desc;
        my ($got, $expected, $op);
        if ($signal) {
            push @extra, "nginx was killed by signal $signal";
        }
        if ($must_die =~ /^\d+$/) {
            ($got, $expected, $op) = ($exit_code, $must_die, 'is');
            $desc = "$name - die with the expected exit code";
        } else {
            ($got, $expected, $op) = ($status, 0, 'isnt');
            $desc = "$name - die as expected";
        }
        push @$checks, {
            run => sub {
                if (@extra) {
                    Test::More::ok(0, $desc);
                    Test::More::diag("    $_") for @extra;
                } elsif ($op eq 'is') {
                    Test::More::is($got, $expected, $desc);
                } else {
                    Test::More::isnt($got, $expected, $desc);
                }
            },
        };
        my $lines = _error_log_lines();
        _check_error_log($block, $lines, $rep, $checks);
        %Nginx = ();
    }
    _append_total_error_log($name);
}

sub _should_skip {
    my $block = shift;
    if (defined(my $s = $block->skip_eval)) {
        if ($s =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            my ($n, $code) = ($1, $2);
            my $r = eval $code;
            bail_out($block->name . " - skip_eval - failed to eval the Perl "
                     . "code \"$code\": $@") if $@;
            return ($n, 'skip_eval') if $r;
        }
    }
    for my $sect (qw(skip_nginx skip_nginx2)) {
        my $s = $block->$sect;
        next unless defined $s;
        my $re = qr/([<>]=?)\s*(\d+)\.(\d+)\.(\d+)/;
        if ($s =~ /^\s*(\d+)\s*:\s*$re(?:\s*(or|and)\s*$re)?(?:\s*:\s*(.*?))?\s*$/) {
            my ($n, $op1, $v1, $join, $op2, $v2, $reason) =
                ($1, $2, _canon($3, $4, $5), $6, $7,
                 defined $8 ? _canon($8, $9, $10) : undef, $11);
            my $cur = $NginxVersion // 0;
            my $c1 = eval "$cur $op1 $v1";
            my $hit = $c1;
            if ($join) {
                my $c2 = eval "$cur $op2 $v2";
                $hit = $join eq 'or' ? ($c1 || $c2) : ($c1 && $c2);
            }
            return ($n, $reason || "nginx version $s") if $hit;
        } else {
            bail_out($block->name . " - Invalid --- $sect spec: $s");
        }
    }
    return;
}

sub _canon { sprintf "%d.%03d%03d", @_ }

sub _todo_spec {
    my $block = shift;
    my $t = $block->todo;
    return undef unless defined $t;
    bail_out($block->name . " - Invalid --- todo spec: $t")
        unless $t =~ /^\s*(\d+)\s*:\s*(.*)/s;
    return [$1, $2];
}

sub _skip_check {
    my ($reason, $n) = @_;
    return { run => sub { Test::More->builder->skip($reason) for 1 .. $n } };
}

sub _todo_check {
    my ($reason, $n) = @_;
    return { run => sub {
        Test::More->builder->todo_skip($reason) for 1 .. $n } };
}

sub _emit {
    my $checks = shift;
    for my $c (@$checks) {
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        $c->{run}->($c);
    }
}

# ---------------------------------------------------------------------------
# Requests and response checks of one repetition
# ---------------------------------------------------------------------------

# Returns the status check of the last request (problems found at shutdown
# are appended to it).
sub _run_requests {
    my ($block, $rep, $start_problem, $checks) = @_;
    my $name = $block->name;

    my $reqs = _build_requests($block);
    bail_out("$name - request empty") unless @$reqs;

    my $need_array = $block->pipelined_requests ? 1 : (@$reqs > 1);
    my $timeout = _parse_time($block->timeout) // $Timeout;
    my $wait = _parse_time($block->wait);

    my $req_idx = 0;
    my $last_status;
    for my $r (@$reqs) {
        my ($responses, @conn_problems);
        if (defined $start_problem) {
            push @conn_problems, $start_problem;
            $responses = [];
        } else {
            my $x = _http_exchange($block, $r, $timeout);
            push @conn_problems, @{ $x->{problems} };
            if (defined $block->http09) {
                $responses = [{ code => 200, body => $x->{raw},
                                raw_headers => '', headers => [],
                                problems => [] }];
            } else {
                $responses = $x->{responses};
                _log_responses($block, $r, $responses) if $ResponseLog;
            }
            if (!$NoNginxManager && !_nginx_running()
                && !$Nginx{reported_gone}++)
            {
                push @conn_problems,
                     "the nginx process $Nginx{pid} is gone: "
                     . _describe_status($Nginx{status});
            }
        }

        for my $k (0 .. $r->{count} - 1) {
            my $res = $responses->[$k]
                      || { code => '', body => '', raw_headers => '',
                           headers => [], problems => [] };

            # Read the log lines of this request now, so that [alert]s etc.
            # can be folded into the status assertion.
            Time::HiRes::sleep($wait) if $wait;
            my $lines = _error_log_lines();

            # (a failed start already quotes nginx's [emerg] lines)
            my @problems = (@conn_problems, @{ $res->{problems} },
                            defined $start_problem
                            ? () : _log_problems($block, $lines));
            @conn_problems = ();   # report connection problems only once

            if (!defined $block->ignore_response) {
                my $st = _check_status($block, $res, $req_idx, $need_array,
                                       \@problems, $checks);
                $last_status = $st;
                _check_raw_response_headers($block, $res, $req_idx,
                                            $need_array, $checks);
                _check_response_headers($block, $res, $req_idx, $need_array,
                                        $checks);
                _transform_response_body($block, $res, $req_idx);
                _check_response_body($block, $res, $req_idx, $rep,
                                     $need_array, $checks);
            } elsif (@problems) {
                Test::More::diag("WARNING: $name - $_") for @problems;
            }

            _check_error_log($block, $lines, $rep, $checks);
            _check_access_log($block, $rep, $checks)
                unless defined $block->ignore_response;
            $req_idx++;
        }
    }
    return $last_status;
}

# --- Opt-in response log, for t/openapi/validate.mjs --------------------
# When TEST_NGINX_RESPONSE_LOG names a file, every HTTP response received in
# a block is appended to it as one JSON line:
#   {"file","block","method","path","status","content_type","body"}
# ("path" is the request target, query included).  A body that is not UTF-8
# is logged as Latin-1 text with "body_encoding":"latin1".  Unset: nothing
# is written and nothing else changes.

sub _log_responses {
    my ($block, $req, $responses) = @_;
    require JSON::PP;
    require Encode;
    require Fcntl;

    # the request lines, in order; bodies are skipped by Content-Length
    my $raw = join '', map { $_->{value} // '' } @{ $req->{packets} };
    my @lines;
    while ($raw =~ /\G(?:\r?\n)*(\S+)[ \t]+(\S+)[^\n]*\n(.*?)\r?\n\r?\n/gcs) {
        push @lines, [$1, $2];
        my $hdrs = $3;
        pos($raw) += $1 if $hdrs =~ /^Content-Length:[ \t]*(\d+)/mi;
    }

    my $json = JSON::PP->new->canonical->utf8;
    my $out = '';
    for my $k (0 .. $#$responses) {
        my $res = $responses->[$k];
        next if !defined $res->{code} || $res->{code} eq '';
        my %rec = (file => $0, block => $block->name,
                   method => $lines[$k][0], path => $lines[$k][1],
                   status => 0 + $res->{code},
                   content_type => _header($res, 'Content-Type'));
        my $body = $res->{body} // '';
        $rec{body} = eval { Encode::decode('UTF-8', $body, Encode::FB_CROAK()
                                                       | Encode::LEAVE_SRC()) };
        if (!defined $rec{body}) {
            ($rec{body}, $rec{body_encoding}) = ($body, 'latin1');
        }
        $out .= $json->encode(\%rec) . "\n";
    }
    return if $out eq '';

    # several prove jobs may append at once: one locked write
    open my $fh, '>>', $ResponseLog
        or bail_out("cannot open TEST_NGINX_RESPONSE_LOG $ResponseLog: $!");
    flock $fh, Fcntl::LOCK_EX();
    syswrite $fh, $out;
    close $fh;
}

# Picks the per-request value of an expectation section.
sub _indexed {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    return $value->[0] if ref $value eq 'ARRAY';
    return $value;
}

sub _check_status {
    my ($block, $res, $idx, $need_array, $problems, $checks) = @_;
    my $name = $block->name;
    my $got = defined $res->{code} ? $res->{code} : '';
    my ($expected, $like);
    if (defined $block->error_code_like) {
        $expected = _indexed($name, _sect($block, 'error_code_like'), $idx,
                             $need_array);
        $like = 1;
    } elsif (defined $block->error_code) {
        $expected = _indexed($name, _sect($block, 'error_code'), $idx,
                             $need_array);
    } else {
        $expected = 200;
    }
    my $desc = "$name - status code ok";
    my $check = { problems => [@$problems] };
    $check->{run} = sub {
        my $c = shift;
        if (@{ $c->{problems} }) {
            Test::More::ok(0, $desc);
            Test::More::diag("    status: got '$got', expected '"
                             . ($expected // '') . "'; failed because:");
            Test::More::diag("    $_") for @{ $c->{problems} };
        } elsif ($like) {
            Test::More::like($got, qr/$expected/sm, $desc);
        } else {
            Test::More::is($got, $expected, $desc);
        }
    };
    push @$checks, $check;
    return $check;
}

sub _check_raw_response_headers {
    my ($block, $res, $idx, $need_array, $checks) = @_;
    my $name = $block->name;
    for my $kind (qw(like unlike)) {
        my $v = _sect($block, "raw_response_headers_$kind");
        next unless defined $v;
        my $pat = _indexed($name, $v, $idx, $need_array);
        my $raw = $res->{raw_headers};
        push @$checks, { run => sub {
            no strict 'refs';
            &{"Test::More::$kind"}($raw, qr/$pat/s,
                                   "$name - raw resp headers $kind");
        } };
    }
}

sub _check_response_headers {
    my ($block, $res, $idx, $need_array, $checks) = @_;
    my $name = $block->name;

    if (defined(my $v = _sect($block, 'response_headers'))) {
        for my $h (_parse_headers(_indexed($name, $v, $idx, $need_array))) {
            my ($key, $val) = @$h;
            if (!defined $val) {
                # "!Name": the header must not be there at all.
                my $raw = $res->{raw_headers};
                push @$checks, { run => sub {
                    Test::More::unlike($raw, qr/^\s*\Q$key\E\s*:/msi,
                        "$name - header $key not present in the raw headers");
                } };
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $actual = _header($res, $key) // '';
            push @$checks, { run => sub {
                Test::More::is($actual, $val, "$name - header $key ok");
            } };
        }

    } elsif (defined($v = _sect($block, 'response_headers_like'))) {
        for my $h (_parse_headers(_indexed($name, $v, $idx, $need_array))) {
            my ($key, $val) = @$h;
            $val //= '';
            my $actual = _header($res, $key) // '';
            push @$checks, { run => sub {
                Test::More::like($actual, qr/^$val$/,
                                 "$name - header $key like ok");
            } };
        }
    }
}

# "Name: value" lines; "!Name" means "absent" (value undef).  Like the CPAN
# module, a name given twice counts once (it uses a hash); blank lines are
# ignored.
sub _parse_headers {
    my $s = shift // '';
    my (@order, %seen);
    for my $line (split /\n/, $s) {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
            $val //= '';
        }
        push @order, $key unless exists $seen{$key};
        $seen{$key} = $val;
    }
    return map { [$_, $seen{$_}] } @order;
}

sub _transform_response_body {
    my ($block, $res, $idx) = @_;
    my $filters = $block->response_body_filters;
    return unless defined $filters;
    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {
        # Two-dimensional: one filter list per request.
        $filters = $filters->[$idx];
        bail_out("$name - the --- response_body_filters two-dimensional "
                 . "array does not cover request $idx") unless $filters;
    }
    my %builtin = (
        md5_hex  => \&Digest::MD5::md5_hex,
        sha1_hex => \&Digest::SHA::sha1_hex,
        uc => sub { uc shift }, lc => sub { lc shift },
        ucfirst => sub { ucfirst shift }, lcfirst => sub { lcfirst shift },
        length => sub { length shift },
    );
    for my $f (ref $filters eq 'ARRAY' ? @$filters : $filters) {
        my $code = ref $f eq 'CODE' ? $f : $builtin{$f}
            or bail_out("$name - unknown filter, \"$f\", specified in the "
                        . "--- response_body_filters section");
        $res->{body} = $code->($res->{body});
    }
}

sub _check_response_body {
    my ($block, $res, $idx, $rep, $need_array, $checks) = @_;
    my $name = $block->name;
    my $body = $res->{body} // '';

    if (defined $block->response_body) {
        my $expected = _indexed($name, _sect($block, 'response_body'), $idx,
                                $need_array);
        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        }
        my $desc = "$name - response_body - response is expected "
                   . "(repeated req $rep, req $idx)";
        push @$checks, { run => sub {
            if (ref $expected) {
                Test::More::like($body, $expected,
                    "$name - response_body - like (repeated req $rep, "
                    . "req $idx)");
            } else {
                is_str($body, $expected, $desc);
            }
        } };

    } else {
        for my $kind (qw(like unlike)) {
            my $v = _sect($block, "response_body_$kind");
            next unless defined $v;
            my $pat = _indexed($name, $v, $idx, $need_array);
            $pat =~ s/\$ServerPort\b/$ServerPort/g unless ref $pat;
            (my $summary = $body) =~ s/^\s+|\s+$//g;
            $summary =~ s/\s+/ /g;
            $summary = substr($summary, 0, 60) . '...'
                if length $summary > 63;
            push @$checks, { run => sub {
                no strict 'refs';
                &{"Test::More::$kind"}($body, qr/$pat/s,
                    "$name - response_body_$kind - response is expected "
                    . "($summary)");
            } };
            last;
        }
    }

    if (defined(my $v = _sect($block, 'response_json'))) {
        my $expected = _json_expected($name, $v, $idx, $need_array);
        return _response_body_checks($block, $body, $idx, $rep, $checks)
            unless defined $expected;      # undef: this request unchecked
        my $desc = "$name - response_json - fields are as expected "
                   . "(repeated req $rep, req $idx)";
        push @$checks, { run => sub {
            my @why = _json_mismatches($body, $expected);
            Test::More::ok(!@why, $desc);
            Test::More::diag("    $_") for @why;
            Test::More::diag("    the body: " . (length $body > 400
                             ? substr($body, 0, 400) . "..." : $body)) if @why;
        } };
    }

    _response_body_checks($block, $body, $idx, $rep, $checks);
}

sub _response_body_checks {
    my ($block, $body, $idx, $rep, $checks) = @_;
    for my $cb (@ResponseBodyChecks) {
        push @$checks, { run => sub { $cb->($block, $body, $idx, $rep, 0) } };
    }
}

# --- response_json: the body parsed as JSON and compared with the expected
# fields.  The section is JSON text, or with "eval" Perl data (an array of
# one entry per request when the block sends several; an entry may be JSON
# text, or undef for a request not checked).  A subset match: an expected object's keys must be there with
# matching values (other keys are ignored); an array must have as many
# elements, each matching; a qr// matches a string or number; JSON::PP::true
# and JSON::PP::false (or \1 and \0) a boolean; undef a null; a code ref is
# called with the value and the object or array holding it, and must
# return true.  Every mismatch is reported
# with its path ($.dns_records[0].value) and the value got.
sub _json_expected {
    my ($name, $v, $idx, $need_array) = @_;
    if ($need_array) {
        ref $v eq 'ARRAY'
            or bail_out("$name - You asked for many requests, the expected "
                        . "results should be arrays as well.");
        $v = $v->[$idx];
    }
    return $v if !defined $v || ref $v;
    require JSON::PP;
    my $data = eval { JSON::PP->new->utf8(0)->allow_nonref->decode($v) };
    bail_out("$name - --- response_json is not JSON: $@") if $@;
    return $data;
}

sub _json_mismatches {
    my ($body, $expected) = @_;
    require JSON::PP;
    my $got = eval { JSON::PP->new->utf8->allow_nonref->decode($body) };
    if ($@) {
        (my $err = $@) =~ s/ at \S+ line \d+.*//s;
        my $b = length $body > 200 ? substr($body, 0, 200) . '...' : $body;
        return ("the body is not JSON ($err): $b");
    }
    my @why;
    _json_cmp('$', $got, $expected, \@why);
    return @why;
}

sub _json_show {
    my $v = shift;
    return 'null' unless defined $v;
    return JSON::PP::is_bool($v) ? ($v ? 'true' : 'false') : "\"$v\""
        unless ref $v && !JSON::PP::is_bool($v);
    my $s = JSON::PP->new->canonical->allow_nonref->encode($v);
    return length $s > 300 ? substr($s, 0, 300) . '...' : $s;
}

sub _json_cmp {
    my ($path, $got, $exp, $why, $parent) = @_;
    my $r = ref $exp;

    if (!defined $exp) {
        push @$why, "$path: got " . _json_show($got) . ", expected null"
            if defined $got;
    } elsif (JSON::PP::is_bool($exp) || $r eq 'SCALAR') {
        my $want = $r eq 'SCALAR' ? $$exp : $exp;
        push @$why, "$path: got " . _json_show($got) . ", expected "
                    . ($want ? 'true' : 'false')
            unless JSON::PP::is_bool($got) && !$got == !$want;
    } elsif ($r eq 'Regexp') {
        push @$why, "$path: got " . _json_show($got) . ", expected like $exp"
            unless defined $got && !ref $got && $got =~ $exp;
    } elsif ($r eq 'CODE') {
        push @$why, "$path: got " . _json_show($got)
                    . ", which the expected code refused"
            unless $exp->($got, $parent);
    } elsif ($r eq 'HASH') {
        if (ref $got ne 'HASH') {
            push @$why, "$path: got " . _json_show($got)
                        . ", expected an object";
            return;
        }
        for my $k (sort keys %$exp) {
            my $p = $k =~ /^\w+$/ ? "$path.$k" : "$path\{\"$k\"}";
            if (!exists $got->{$k}) {
                push @$why, "$p: missing, expected "
                            . _json_show_exp($exp->{$k});
                next;
            }
            _json_cmp($p, $got->{$k}, $exp->{$k}, $why, $got);
        }
    } elsif ($r eq 'ARRAY') {
        if (ref $got ne 'ARRAY') {
            push @$why, "$path: got " . _json_show($got)
                        . ", expected an array";
            return;
        }
        if (@$got != @$exp) {
            push @$why, "$path: got " . @$got . " elements, expected "
                        . @$exp . ": " . _json_show($got);
            return;
        }
        _json_cmp("$path\[$_]", $got->[$_], $exp->[$_], $why, $got)
            for 0 .. $#$exp;
    } elsif ($r) {
        push @$why, "$path: cannot compare with a $r";
    } else {
        push @$why, "$path: got " . _json_show($got) . ", expected \"$exp\""
            unless defined $got && !ref $got && $got eq $exp;
    }
}

sub _json_show_exp {
    my $e = shift;
    return ref $e eq 'Regexp' ? "like $e" : ref $e eq 'CODE' ? 'a value'
         : ref $e eq 'SCALAR' ? ($$e ? 'true' : 'false') : _json_show($e);
}

# --- error_log / no_error_log / grep_error_log: one assertion per pattern
# (the CPAN module emits one *failure per matching line* for no_error_log and
# then hides the count mismatch; here it is one assertion either way).
sub _check_error_log {
    my ($block, $lines, $rep, $checks) = @_;
    my $name = $block->name;

    my $grep = _sect($block, 'grep_error_log');
    my $grep_out = _sect($block, 'grep_error_log_out');
    if (defined $grep) {
        bail_out("$name - No --- grep_error_log_out defined but "
                 . "--- grep_error_log is defined") unless defined $grep_out;
        my $pat = ref $grep eq 'ARRAY' ? $grep->[$rep] : $grep;
        my $exp = ref $grep_out eq 'ARRAY' ? $grep_out->[$rep] : $grep_out;
        my $matched = '';
        for my $line (@$lines) {
            my $hit = ref $pat ? ($line =~ $pat) : ($line =~ /\Q$pat\E/);
            $matched .= "$&\n" if $hit && $& !~ /\n/;
        }
        push @$checks, { run => sub {
            # as the CPAN module: a regex is matched, a string compared
            if (ref $exp eq 'Regexp') {
                like($matched, $exp, "$name - grep_error_log_out (req $rep)");
            } else {
                is_str($matched, $exp, "$name - grep_error_log_out (req $rep)");
            }
        } };
    } elsif (defined $grep_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }

    _pattern_checks($name, _sect($block, 'error_log'), $lines, 1,
                    "error.log", $rep, $checks);
    _pattern_checks($name, _sect($block, 'no_error_log'), $lines, 0,
                    "error.log", $rep, $checks);
}

sub _check_access_log {
    my ($block, $rep, $checks) = @_;
    my $pos = _sect($block, 'access_log');
    my $neg = _sect($block, 'no_access_log');
    return unless defined $pos || defined $neg;
    Time::HiRes::sleep($TestNginxSleep * 3);
    my @lines;
    if (open my $in, '<', $AccLogFile) { @lines = <$in>; close $in }
    _pattern_checks($block->name, $pos, \@lines, 1, "access.log", $rep,
                    $checks);
    _pattern_checks($block->name, $neg, \@lines, 0, "access.log", $rep,
                    $checks);
}

sub _pattern_list {
    my $pats = shift;
    return () unless defined $pats;
    if (!ref $pats) {
        chomp $pats;
        return split /\n+/, $pats;
    }
    return ($pats) if ref $pats eq 'Regexp';
    return grep { defined } @$pats;
}

sub _line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? scalar($line =~ $pat) : index($line, $pat) >= 0;
}

sub _pattern_checks {
    my ($name, $pats, $lines, $want, $file, $rep, $checks) = @_;
    for my $pat (_pattern_list($pats)) {
        my @hits = grep { _line_matches($_, $pat) } @$lines;
        my $p = _fmt_str("$pat");
        if ($want) {
            my $ok = @hits ? 1 : 0;
            my $n = @$lines;
            push @$checks, { run => sub {
                Test::More::ok($ok, $ok
                    ? "$name - pattern \"$p\" matches a line in $file "
                      . "(req $rep)"
                    : "$name - pattern \"$p\" should match a line in $file "
                      . "(req $rep)");
                Test::More::diag("    ($n new lines in $file were searched)")
                    unless $ok;
            } };
        } else {
            my $ok = @hits ? 0 : 1;
            push @$checks, { run => sub {
                if ($ok) {
                    Test::More::pass("$name - pattern \"$p\" does not match "
                                     . "a line in $file (req $rep)");
                } else {
                    Test::More::fail("$name - pattern \"$p\" should not "
                                     . "match any line in $file (req $rep)");
                    my $more = @hits > 5 ? " (and " . (@hits - 5)
                                           . " more)" : '';
                    Test::More::diag("    matching line: " . _fmt_str($_))
                        for @hits[0 .. ($#hits < 4 ? $#hits : 4)];
                    Test::More::diag("    $more") if $more;
                }
            } };
        }
    }
}

# shutdown_error_log / no_shutdown_error_log: checked against what nginx
# wrote while stopping (we stop it at the end of every block).
sub _check_shutdown_error_log {
    my ($block, $lines, $checks) = @_;
    _pattern_checks($block->name, _sect($block, 'shutdown_error_log'),
                    $lines, 1, "error.log (shutdown)", 0, $checks);
    _pattern_checks($block->name, _sect($block, 'no_shutdown_error_log'),
                    $lines, 0, "error.log (shutdown)", 0, $checks);
}

sub _fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# True when the block's own error_log/no_error_log sections talk about $what
# (then those lines are expected and must not fail the block by themselves).
sub _value_contains {
    my ($val, $what) = @_;
    return 0 unless defined $val;
    return index("$val", $what) >= 0 if !ref $val || ref $val eq 'Regexp';
    if (ref $val eq 'ARRAY') {
        for my $v (@$val) { return 1 if _value_contains($v, $what) }
    }
    return 0;
}

sub _expected_in_block {
    my ($block, $what) = @_;
    for my $s (qw(error_log no_error_log shutdown_error_log
                  no_shutdown_error_log grep_error_log)) {
        # scalar(): a missing section is an empty list in list context
        return 1 if _value_contains(scalar($block->$s), $what);
    }
    return 0;
}

# Serious lines in the error log: [alert], [emerg] and crashed workers fail
# the block (through the status assertion); [crit] is only reported.  Not
# when the test expects them: a line matched by one of its error_log
# patterns, or a kind of line its error_log/no_error_log sections mention.
sub _log_problems {
    my ($block, $lines) = @_;
    my $name = $block->name;
    my @problems;
    my %check = map { $_ => !_expected_in_block($block, $_) }
                ('[alert', '[emerg', '[crit', 'exited on signal');
    my @expected = (_pattern_list(_sect($block, 'error_log')),
                    _pattern_list(_sect($block, 'shutdown_error_log')));
    for my $line (@$lines) {
        next if grep { _line_matches($line, $_) } @expected;
        if (($check{'[alert'} && $line =~ /\[alert\]/)
            || ($check{'[emerg'} && $line =~ /\[emerg\]/)
            || ($check{'exited on signal'} && $line =~ /exited on signal/))
        {
            push @problems, "error.log: " . _fmt_str($line);
        } elsif ($check{'[crit'} && $line =~ /\[crit\]/) {
            Test::More::diag("WARNING: $name - " . _fmt_str($line));
        }
    }
    if (@problems > 10) {
        my $n = @problems - 10;
        splice @problems, 10;
        push @problems, "... and $n more such lines in error.log";
    }
    return @problems;
}

# New error.log lines since the last call (all lines with
# check_accum_error_log), after the short settle delay the CPAN module uses
# for lines logged in the log phase.
sub _error_log_lines {
    Time::HiRes::sleep($TestNginxSleep * 3);
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos > 0;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub _append_total_error_log {
    my $name = shift;
    my $total = $ENV{TEST_NGINX_ERROR_LOG} or return;
    return unless -s $ErrLogFile;
    open my $out, '>>', $total or bail_out("cannot append to $total: $!");
    open my $in, '<', $ErrLogFile or return;
    print $out "\n=== $name\n", <$in>;
    close $in;
    close $out;
}

# ---------------------------------------------------------------------------
# Building the requests
# ---------------------------------------------------------------------------

# Returns a list of connections to make; each is
#   { packets => [{ value, delay_before }...], count => N, heads => [..] }
# where count > 1 only for pipelined requests (N responses on one connection).
sub _build_requests {
    my $block = shift;
    my $name = $block->name;
    my @list;

    if (defined(my $raw = _sect($block, 'raw_request'))) {
        my @packets = ref $raw eq 'ARRAY'
                      ? map { ref $_ ? $_ : { value => $_ } } @$raw
                      : ({ value => $raw });
        $_->{value} = _bytes($_->{value}) for @packets;
        my $all = join '', map { $_->{value} } @packets;
        push @list, { packets => \@packets, count => 1,
                      heads => [$all =~ /^\s*HEAD\s/ ? 1 : 0] };
        return \@list;
    }

    my $more = _sect($block, 'more_headers') // '';
    my $hdrs_for = sub {
        my ($i, $what) = @_;
        my $h = $more;
        if (ref $more eq 'ARRAY') {
            $h = $more->[$i];
            bail_out("$name - --- more_headers lacks data for the $what")
                unless defined $h;
        }
        return _parse_more_headers($h);
    };

    if (defined(my $reqs = _sect($block, 'pipelined_requests'))) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        my ($all, @heads) = ('');
        for my $i (0 .. $#$reqs) {
            my ($h, $chunked) = $hdrs_for->($i, "${i}th pipelined request");
            my $conn = $i == $#$reqs ? 'close' : 'keep-alive';
            my ($pk, $meth) = _build_request($name, [_bytes($reqs->[$i])],
                                             $h, $chunked, $conn);
            $all .= join '', @$pk;
            push @heads, $meth eq 'HEAD' ? 1 : 0;
        }
        push @list, { packets => [{ value => $all }],
                      count => scalar @$reqs, heads => \@heads };
        return \@list;
    }

    my $request = _sect($block, 'request');
    bail_out("$name - no --- request section") unless defined $request;
    if (!ref $request) {
        # Comment lines and leading blank lines are allowed before the
        # request line.
        while ($request =~ s/^\s*\#[^\n]+\s+|^\s+//gs) { }
        $request = [$request];
    }
    bail_out("$name - invalid --- request: MUST be string or array of "
             . "requests") unless ref $request eq 'ARRAY';

    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my ($h, $chunked) = $hdrs_for->($i, "${i}th request");
        if (!ref $one) {
            my ($pk, $meth) = _build_request($name, [_bytes($one)], $h,
                                             $chunked, 'close');
            push @list, { packets => [map { { value => $_ } } @$pk],
                          count => 1, heads => [$meth eq 'HEAD' ? 1 : 0] };

        } elsif (ref $one eq 'ARRAY') {
            # A request split into packets: strings or { value, delay_before }
            my @meta = map {
                ref $_ eq 'HASH' ? { %$_ }
                : !ref $_ ? { value => $_ }
                : bail_out("$name - Invalid syntax. $_ should be a string "
                           . "or hash with value.")
            } @$one;
            my ($pk, $meth) = _build_request($name,
                [map { _bytes($_->{value}) } @meta], $h, $chunked, 'close');
            $meta[$_]{value} = $pk->[$_] for 0 .. $#meta;
            push @list, { packets => \@meta, count => 1,
                          heads => [$meth eq 'HEAD' ? 1 : 0] };
        } else {
            bail_out("$name - Invalid syntax. $one should be a string or an "
                     . "array of packets.");
        }
    }
    return \@list;
}

# Wide characters cannot go on the wire; send their UTF-8 bytes.
sub _bytes {
    my $s = shift // '';
    utf8::encode($s) if utf8::is_utf8($s);
    return $s;
}

sub _parse_more_headers {
    my $in = shift // '';
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $in) {
        next if $line =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        next unless defined $key && $key ne '';
        $val //= '';
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Turns "METHOD [URI [HTTP/x.y]]\n<body>" (possibly split into packets) into
# a real HTTP request: adds Host, Connection, more_headers and, when there is
# a body, Content-Length; the body is trimmed of surrounding whitespace.
# Returns (\@packets, $method) with the packet boundaries kept at the same
# places relative to the request line and body.
sub _build_request {
    my ($name, $parts, $more, $chunked, $conn) = @_;
    my $text = join '', @$parts;

    my ($first, $rest, $body_off);
    if ($text =~ /\A([^\n]*)\n(.*)\z/s) {
        ($first, $rest, $body_off) = ($1, $2, length($1) + 1);
    } else {
        ($first, $rest, $body_off) = ($text, '', length $text);
    }
    bail_out("$name - Request line should be non-empty")
        if $first !~ /\S/;
    my ($meth, $uri, $ver) =
        $first =~ /^\s*(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(\S+))?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    $uri //= '/';
    $ver //= 'HTTP/1.1';

    my ($content, $lead) = ($rest, 0);
    my $len_header = '';
    if (!$chunked && $content ne '' && $more !~ /(?:^|\n)Content-Length:/) {
        $lead = length(($content =~ /\A(\s*)/)[0]);
        $content =~ s/^\s+|\s+$//gs;
        $len_header = "Content-Length: " . length($content) . "\r\n";
    }

    my $headers = '';
    $headers .= "Host: $ServerName\r\n" if $more !~ /(?:^|\n)Host:/i;
    $headers .= "Connection: $conn\r\n" if $more !~ /(?:^|\n)Connection/i;
    $headers .= "$more$len_header\r\n";

    my $line = "$meth $uri $ver\r\n";
    my $head = $line . $headers;
    my $full = $head . $content;

    # Map the original packet boundaries onto the built request.
    my @cuts;
    my $off = 0;
    for my $i (0 .. $#$parts - 1) {
        $off += length $parts->[$i];
        my $new;
        if ($off >= $body_off) {
            my $c = $off - $body_off - $lead;
            $c = 0 if $c < 0;
            $c = length $content if $c > length $content;
            $new = length($head) + $c;
        } else {
            $new = $off < length($line) - 2 ? $off : length $head;
        }
        $new = $cuts[-1] if @cuts && $new < $cuts[-1];
        push @cuts, $new;
    }
    my @packets;
    my $prev = 0;
    for my $cut (@cuts, length $full) {
        push @packets, substr($full, $prev, $cut - $prev);
        $prev = $cut;
    }
    return (\@packets, uc $meth);
}

# ---------------------------------------------------------------------------
# HTTP client: raw socket, hand-written response parser
# ---------------------------------------------------------------------------

# Sends one connection's packets and reads until the server closes the
# connection (we always send "Connection: close" last), the read timeout
# expires between two I/O events, or all expected responses are complete and
# the server stays quiet for a short grace period.
sub _http_exchange {
    my ($block, $req, $timeout) = @_;
    my $name = $block->name;
    my %x = (raw => '', problems => [], responses => []);

    my ($sock, $err);
    my $tries = $UseValgrind ? 150 : 30;
    for my $try (1 .. $tries) {
        $sock = IO::Socket::INET->new(
            PeerAddr => $block->server_addr_for_client // $ServerAddr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        last if $sock;
        $err = "$!";
        last if !$NoNginxManager && !_nginx_running();
        Time::HiRes::sleep($try < 10 ? 0.02 * $try : 0.2);
    }
    if (!$sock) {
        push @{ $x{problems} }, "cannot connect to port "
            . "$ServerPortForClient: $err";
        return \%x;
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';   # the server may close while we write

    my @packets = @{ $req->{packets} };
    my $middle_delay = _parse_time($block->raw_request_middle_delay);
    my ($wbuf, $woff) = (undef, 0);
    my $first = 1;
    my $next_packet = sub {
        my $p = shift @packets or return 0;
        my $delay = $p->{delay_before} // ($first ? undef : $middle_delay);
        Time::HiRes::sleep($delay) if $delay;
        $first = 0;
        ($wbuf, $woff) = ($p->{value} // '', 0);
        return 1;
    };
    my $writing = $next_packet->();

    my $sel = IO::Select->new($sock);
    my ($eof, $complete) = (0, 0);
    while (1) {
        my $wait = $complete ? List::Util::min($timeout, 0.3) : $timeout;
        $! = 0;   # an empty result means timeout unless select sets EINTR
        my ($r, $w) = IO::Select->select($sel, $writing ? $sel : undef,
                                         undef, $wait);
        if (!$r && !$w) {
            next if $!{EINTR};
            last if $complete;   # quiet server after complete responses
            if (!defined $block->abort) {
                push @{ $x{problems} }, "client socket timed out after "
                    . "${timeout}s without I/O ("
                    . ($writing ? "while sending the request"
                                : "while reading the response") . ")";
            }
            last;
        }

        if ($writing && $w && @$w) {
            while ($writing) {
                if ($woff >= length $wbuf) {
                    next if $writing = $next_packet->();
                    my $sd = $block->shutdown;
                    if (defined $sd) {
                        shutdown($sock, $sd =~ /^\s*$/ ? 1 : $sd);
                    }
                    last;
                }
                my $n = syswrite($sock, $wbuf, length($wbuf) - $woff, $woff);
                if (!defined $n) {
                    last if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                    # EPIPE/ECONNRESET: the server gave up on the request
                    # (e.g. 413); still read whatever it answered.
                    $writing = 0;
                    last;
                }
                $woff += $n;
            }
        }

        if ($r && @$r) {
            while (1) {
                my $n = sysread($sock, my $buf, 65536);
                if (!defined $n) {
                    last if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
                    $eof = 1;   # ECONNRESET and friends: like a close
                    last;
                }
                if ($n == 0) { $eof = 1; last }
                $x{raw} .= $buf;
            }
        }
        last if $eof;

        if (!$writing) {
            my ($res, $left, $ncomplete) =
                _parse_responses($x{raw}, $req->{count}, $req->{heads}, 0);
            $complete = $ncomplete >= $req->{count};
        }
    }
    close $sock;

    my ($res, $left) =
        _parse_responses($x{raw}, $req->{count}, $req->{heads}, 1);
    $x{responses} = $res;
    if (defined $left && length $left) {
        (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}',ord $1)/eg;
        Test::More::diag("WARNING: $name - unexpected extra bytes after the "
                         . "last response: \"" . substr($l, 0, 200) . "\"");
    }
    return \%x;
}

# Splits the raw bytes into up to $count responses.  Returns
# (\@responses, $leftover, $number_complete).  With $at_eof, responses
# delimited by the connection close are complete, and incomplete ones are
# reported (truncated body, broken chunked encoding).
sub _parse_responses {
    my ($raw, $count, $heads, $at_eof) = @_;
    my (@out, $ncomplete);
    my $pos = 0;
    $ncomplete = 0;
    for my $i (0 .. $count - 1) {
        last if $pos >= length $raw;
        my ($res, $end, $complete) =
            _parse_one(\$raw, $pos, $heads->[$i], $at_eof);
        push @out, $res;
        $pos = $end;
        last unless $complete;
        $ncomplete++;
    }
    my $left = $pos < length $raw ? substr($raw, $pos) : '';
    return (\@out, $left, $ncomplete);
}

sub _parse_one {
    my ($rawref, $pos, $is_head, $at_eof) = @_;
    my $s = substr($$rawref, $pos);
    my %res = (code => '', raw_headers => '', headers => [], body => '',
               problems => []);

    my ($head, $body_start);
    if ($s =~ /\A(.*?\r?\n)\r?\n/s) {
        ($head, $body_start) = ($1, $+[0]);
    } else {
        # Header block incomplete: keep what we can for the status check.
        $head = $s;
        _parse_head(\%res, $head);
        push @{ $res{problems} }, "incomplete response header received"
            if $at_eof && $s ne '';
        return (\%res, length $$rawref, 0);
    }
    _parse_head(\%res, $head);

    my $code = $res{code};
    if ($is_head || $code =~ /^(?:1\d\d|204|304)$/) {
        return (\%res, $pos + $body_start, 1);
    }

    my $te = _header(\%res, 'Transfer-Encoding');
    my $cl = _header(\%res, 'Content-Length');
    if (defined $te && $te =~ /\bchunked\b/i) {
        my ($body, $used, $state, $err) =
            _dechunk(substr($s, $body_start));
        $res{body} = $body;
        if ($state eq 'complete') {
            return (\%res, $pos + $body_start + $used, 1);
        }
        if ($at_eof) {
            push @{ $res{problems} }, $state eq 'invalid'
                ? "invalid chunked body received: $err"
                : "incomplete chunked body received (no last chunk)";
        }
        return (\%res, length $$rawref, 0);
    }

    if (defined $cl && $cl =~ /^\s*(\d+)/) {
        my $len = $1;
        my $avail = length($s) - $body_start;
        if ($avail >= $len) {
            $res{body} = substr($s, $body_start, $len);
            return (\%res, $pos + $body_start + $len, 1);
        }
        $res{body} = substr($s, $body_start);
        if ($at_eof) {
            Test::More::diag("WARNING: response body truncated: $len "
                             . "expected, but got $avail");
        }
        return (\%res, length $$rawref, 0);
    }

    # Delimited by the connection close.
    $res{body} = substr($s, $body_start);
    return (\%res, length $$rawref, $at_eof ? 1 : 0);
}

sub _parse_head {
    my ($res, $head) = @_;
    $res->{raw_headers} = $head;
    my @lines = split /\r?\n/, $head;
    my $status = shift(@lines) // '';
    $res->{code} = $1 if $status =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d{3})\b};
    for my $line (@lines) {
        if ($line =~ /^[ \t]+(.*)/ && @{ $res->{headers} }) {
            $res->{headers}[-1][1] .= " $1";   # obsolete line folding
        } elsif ($line =~ /^([^:]+?)[ \t]*:[ \t]*(.*?)[ \t]*$/) {
            push @{ $res->{headers} }, [$1, $2];
        }
    }
}

# Case-insensitive header lookup; several headers of the same name are
# joined with ", " (what HTTP::Headers does for the CPAN module).
sub _header {
    my ($res, $name) = @_;
    my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name }
            @{ $res->{headers} };
    return @v ? join(', ', @v) : undef;
}

# Returns ($decoded, $bytes_used, 'complete'|'incomplete'|'invalid', $err).
sub _dechunk {
    my $s = shift;
    my $out = '';
    pos($s) = 0;
    while (1) {
        my $at = pos($s);
        if ($s !~ /\G[ \t]*([0-9a-fA-F]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
            my $rest = substr($s, $at);
            return ($out, $at, 'incomplete')
                if $rest !~ /\n/ && $rest =~ /\A[ \t]*[0-9a-fA-F]*[^\r\n]*\r?\z/;
            return ($out, $at, 'invalid',
                    "bad chunk size line: \"" . _fmt_str(substr($rest, 0, 40))
                    . "\"");
        }
        my $size = hex $1;
        if ($size == 0) {
            # Optional trailer fields, then the final empty line.
            while ($s =~ /\G([^\r\n]*)\r\n/gc) {
                return ($out, pos($s), 'complete') if $1 eq '';
            }
            return ($out, $at, 'incomplete');
        }
        my $data_at = pos($s);
        return ($out, $at, 'incomplete') if length($s) < $data_at + $size + 2;
        $out .= substr($s, $data_at, $size);
        pos($s) = $data_at + $size;
        if ($s !~ /\G\r\n/gc) {
            return ($out, $at, 'invalid', "expected CRLF after chunk data");
        }
    }
}

# ---------------------------------------------------------------------------
# Server root, nginx.conf, starting and stopping nginx
# ---------------------------------------------------------------------------

sub _setup_server_root {
    if (-d $ServRoot) {
        # Only remove what we create ourselves: a mis-set TEST_NGINX_SERVROOT
        # must never wipe real data (the CPAN module is just as careful).
        File::Path::remove_tree($ConfDir, $HtmlDir, $LogDir,
                                glob("$ServRoot/*_temp"),
                                glob("$ServRoot/*_cache"));
        if (!rmdir $ServRoot) {
            opendir(my $dh, $ServRoot);
            my @left = grep { !/^\.\.?$/ } readdir $dh;
            bail_out("Can't remove $ServRoot (not empty: @left). Keep "
                     . "test files under html/, logs/ or a *_temp/ or "
                     . "*_cache/ directory of the server root");
        }
    }
    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        mkdir $d or bail_out("Failed to do mkdir $d: $!");
    }
    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't open $HtmlDir/index.html for writing: $!");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub _write_user_files {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: " . ref($files)
                 . ", only scalar or ARRAY are accepted");
    }

    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        $body = _expand_env($body // '', $name, $rand_ports);
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            File::Path::make_path($1);
        }
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!");
        binmode $out;
        print $out _bytes($body);
        close $out;
        if ($date && $date =~ /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d\d))?$/) {
            my $t = Time::Local::timegm($6 // 0, $5, $4, $3, $2 - 1, $1);
            utime $t, $t, $path;
        }
    }
}

sub _write_config_file {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $main = _expand_env($block->main_config // '', $name, $rand_ports);
    my $post = _expand_env($block->post_main_config // '', $name,
                           $rand_ports);
    my $http = _expand_env($block->http_config // '', $name, $rand_ports);
    my $server_name = $block->server_name // $ServerName;
    $config //= '';

    # load_module must come before any directive of the loaded module.
    my $modules = '';
    for my $m (grep { length } split /\s+/, $LoadModules // '') {
        # Relative paths are taken from the current directory (nginx would
        # resolve them against the server root, which is rarely meant).
        $m = File::Spec->rel2abs($m) if $m !~ m{^/} && -e $m;
        $modules .= "load_module $m;\n";
    }

    my $env = '';
    for my $v (qw(LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS MOCKEAGAIN
                  MOCKEAGAIN_VERBOSE MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
                  MOCKNOEAGAIN MOCKNOEAGAIN_VERBOSE),
               @EnvToNginx)
    {
        $env .= $v =~ /\s/ ? "env '$v';\n" : "env $v;\n";
    }

    # Debian's nginx has absolute, system-wide temp paths compiled in; keep
    # everything inside the server root (unless the test sets them itself).
    my $temps = '';
    my %module_of = (proxy => 'http_proxy', fastcgi => 'http_fastcgi',
                     uwsgi => 'http_uwsgi', scgi => 'http_scgi');
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        next if "$http\n$config" =~ /\b${t}_temp_path\b/;
        next if $module_of{$t}
                && $NginxConfigure =~ /--without-$module_of{$t}_module\b/;
        $temps .= "    ${t}_temp_path $ServRoot/${t}_temp;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $user = '';
    if (defined $WorkerUser) {
        $user = "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $user = "user root;\n";
    }

    # nginx stays in the foreground as our child ("daemon off"), so we get
    # its exit status (crash detection) and can reap it: an orphaned daemon
    # is not reaped by every PID 1 (containers), leaving zombies behind.
    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!");
    print $out <<"_EOC_";
# generated by t/lib/Test/Nginx/Socket.pm for: $name
${modules}worker_processes  $Workers;
daemon off;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $LogLevel;
pid       $PidFile;
$env
$main

http {
    access_log $AccLogFile;
    default_type text/plain;
    keepalive_timeout  68;
$temps
$http

    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
$user
_EOC_
    close $out;
}

# Returns undef when nginx is up, or a description of why it is not.
sub _start_nginx {
    my $name = shift;
    %Nginx = ();

    if (!_wait_port_free($ServerPort, 5)) {
        bail_out("$name - port $ServerPort is in use by another process; "
                 . "set TEST_NGINX_PORT or TEST_NGINX_RANDOMIZE=1");
    }
    unlink $PidFile;

    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    # -e (nginx >= 1.19.5) sends start-up errors to error.log even when the
    # binary's default error log is stderr (as in Debian's build), so that
    # --- error_log can see "unknown directive" and friends.
    push @cmd, '-e', $ErrLogFile if ($NginxVersion // 0) >= 1.019005;
    @cmd = (_valgrind_prefix(), @cmd) if $UseValgrind;

    my $pid = fork;
    bail_out("$name - fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        # Own session: a Ctrl-C on prove does not hit nginx directly (we
        # stop it ourselves), and we can kill the whole process group.
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', $StderrFile;
        { no warnings 'exec'; exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    %Nginx = (pid => $pid, cmd => "@cmd");

    my $deadline = Time::HiRes::time() + ($UseValgrind ? 120 : 15);
    while (Time::HiRes::time() < $deadline) {
        if (!_nginx_running()) {
            $Nginx{reported_gone} = 1;
            my $why = "nginx failed to start ("
                      . _describe_status($Nginx{status}) . ")";
            my @why = _startup_errors();
            return join "\n    ", $why, @why;
        }
        # The pid file is written after the listening sockets are open.
        if (-s $PidFile) {
            Time::HiRes::sleep($TestNginxSleep);
            return undef;
        }
        Time::HiRes::sleep(0.005);
    }
    _stop_nginx($name);
    return "nginx did not write $PidFile in time";
}

sub _startup_errors {
    my @lines;
    for my $f ($ErrLogFile, $StderrFile) {
        open my $in, '<', $f or next;
        push @lines, grep { /\[(?:emerg|alert|crit)\]|exec .* failed/ } <$in>;
        close $in;
    }
    chomp @lines;
    my %seen;
    @lines = grep { !$seen{ s/^.*?\] (?:\d+#\d+: )?//r }++ } @lines;
    return @lines ? @lines : ("(nothing in $ErrLogFile or $StderrFile)");
}

sub _valgrind_prefix {
    my @v = ('valgrind', '-q', '--num-callers=100',
             "--log-file=$LogDir/valgrind.log");
    if ($UseValgrind =~ /^\d+$/) {
        push @v, '--tool=memcheck', '--leak-check=full',
                 '--show-possibly-lost=no', '--error-exitcode=99';
    } else {
        push @v, split ' ', $UseValgrind;
    }
    for my $f ('valgrind.suppress', 't/valgrind.suppress') {
        if (-f $f) {
            push @v, '--suppressions=' . File::Spec->rel2abs($f);
            last;
        }
    }
    push @v, '--gen-suppressions=all';
    return @v;
}

# Is our nginx child still running?  Reaps it (and records the wait status)
# once it has exited.
sub _nginx_running {
    my $pid = $Nginx{pid} or return 0;
    return 0 if $Nginx{exited};
    my $r = waitpid $pid, POSIX::WNOHANG();
    if ($r == $pid) {
        @Nginx{qw(exited status)} = (1, $?);
        return 0;
    }
    if ($r == -1) {   # not our child any more
        $Nginx{exited} = 1;
        return 0;
    }
    return 1;
}

sub _describe_status {
    my $st = shift;
    return "unknown exit status" unless defined $st;
    return "exited on signal " . ($st & 127)
           . (($st & 128) ? " (core dumped)" : '') if $st & 127;
    return "exit code " . ($st >> 8);
}

# Stops nginx: SIGQUIT (graceful), then SIGKILL to its whole process group
# after timeout().  Returns problems worth failing the block for.
sub _stop_nginx {
    my $name = shift;
    my $pid = $Nginx{pid} or return ();
    my @problems;

    if (_nginx_running()) {
        kill 'QUIT', $pid;
        my $deadline = Time::HiRes::time() + ($UseValgrind ? 60 : $Timeout);
        while (_nginx_running() && Time::HiRes::time() < $deadline) {
            Time::HiRes::sleep(0.005);
        }
        if (_nginx_running()) {
            push @problems, "nginx (pid $pid) did not exit within "
                . ($UseValgrind ? 60 : $Timeout) . "s after SIGQUIT; "
                . "killed it";
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid $pid, 0;
            @Nginx{qw(exited status)} = (1, undef);
        } else {
            my $st = $Nginx{status};
            if (defined $st && $st != 0) {
                push @problems, "nginx exited abnormally on SIGQUIT: "
                                . _describe_status($st);
            }
        }
    } elsif (!$Nginx{reported_gone}) {
        push @problems, "the nginx process $pid was gone before the end of "
                        . "the block: " . _describe_status($Nginx{status});
    }

    # Workers of a killed master could survive it; they share its group.
    if (kill 0, -$pid) {
        kill 'KILL', -$pid;
    }

    if ($UseValgrind && -s "$LogDir/valgrind.log") {
        open my $in, '<', "$LogDir/valgrind.log";
        my @v = <$in>;
        close $in;
        chomp @v;
        Test::More::diag("$name - valgrind:\n" . join "\n", @v);
        push @problems, "valgrind reported errors (see above)"
            if grep { /Invalid|uninitialised|definitely lost|indirectly lost|Mismatched|Syscall param|overlap|Process terminating/ } @v;
        unlink "$LogDir/valgrind.log";
    }

    _wait_port_free($ServerPort, 5);
    %Nginx = (pid => undef);
    unlink $PidFile;
    return @problems;
}

# A port is free when we can bind it with SO_REUSEADDR (as nginx does, so
# TIME_WAIT connections do not count).
sub _port_is_free {
    my $port = shift;
    socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0) or return 1;
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_REUSEADDR(), 1);
    my $ok = bind($s, Socket::pack_sockaddr_in($port, Socket::INADDR_ANY()));
    close $s;
    return $ok ? 1 : 0;
}

# With TEST_NGINX_RANDOMIZE the port is ours to choose: when another
# process has taken it (it was free when the file started), the block moves
# to another free port instead of bailing out the whole file; up to
# $PortTries ports are tried.  A port the user fixed is never moved.
sub _port_is_movable {
    return $ENV{TEST_NGINX_RANDOMIZE} && !$ENV{TEST_NGINX_CLIENT_PORT};
}

sub _move_port_if_taken {
    my ($name, $rand_ports) = @_;
    return unless _port_is_movable();
    for my $try (1 .. $PortTries) {
        return if _wait_port_free($ServerPort, $try == 1 ? 0.2 : 0);
        _move_port($name, "is in use by another process", $rand_ports);
    }
}

sub _move_port {
    my ($name, $why, $rand_ports) = @_;
    my $old = $ServerPort;
    my %used = map { $_ => 1 } $old, values %{ $rand_ports || {} };
    my $new = _gen_rand_port(\%used)
        or bail_out("$name - port $old $why and no free port was found");
    $ServerPort = $ServerPortForClient = $new;
    $ENV{TEST_NGINX_SERVER_PORT} = $new;
    Test::More::diag("$name - port $old $why; using port $new");
}

# nginx could not bind our own port (not a --- config's other listen)
sub _lost_port_race {
    my $problem = shift;
    return _port_is_movable()
           && $problem =~ /bind\(\) to \S*:\Q$ServerPort\E failed \(98:/;
}

sub _wait_port_free {
    my ($port, $secs) = @_;
    my $deadline = Time::HiRes::time() + $secs;
    while (1) {
        return 1 if _port_is_free($port);
        return 0 if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.02);
    }
}

sub _gen_rand_port {
    my $used = shift;
    for (1 .. 1000) {
        my $port = 1985 + int rand(63550);
        next if $used->{$port} || $port == $ServerPort;
        if (_port_is_free($port)) {
            $used->{$port} = 1;
            return $port;
        }
    }
    return undef;
}

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

sub _on_off {
    my $v = shift;
    return undef unless defined $v && $v ne '';
    return $v =~ /^(?:on|1|yes|true)$/i ? 'on' : 'off';
}

# "0.5", "500ms", "2s" -> seconds.
sub _parse_time {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return undef if $t eq '';
    return $1 / 1000 if $t =~ /^([\d.]+)ms$/;
    return $1 if $t =~ /^([\d.]+)s?$/;
    return $t;
}

# Section value with $TEST_NGINX_* expanded in strings (also inside
# arrays); regexes and code references are returned unchanged.
sub _sect {
    my ($block, $sect) = @_;
    my $v = $block->$sect;
    return $v unless defined $v;
    return _expand_any($v, $block->name, _rand_ports($block));
}

# $TEST_NGINX_RAND_PORT_N must mean the same port in every section of a
# block (config and request alike), so the choices live in the block.
sub _rand_ports {
    my $block = shift;
    return $block->{_tn_rand_ports} ||= {};
}

sub _expand_any {
    my ($v, $name, $rp) = @_;
    return $v if !defined $v;
    return _expand_env($v, $name, $rp) if !ref $v;
    return [map { _expand_any($_, $name, $rp) } @$v] if ref $v eq 'ARRAY';
    if (ref $v eq 'HASH') {
        return { map { $_ => _expand_any($v->{$_}, $name, $rp) } keys %$v };
    }
    return $v;
}

# $TEST_NGINX_FOO -> $ENV{TEST_NGINX_FOO} (bail out when it is not set);
# $TEST_NGINX_RAND_PORT_N -> a free port, the same one within the block.
sub _expand_env {
    my ($text, $name, $rand_ports) = @_;
    return $text unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = map { $_ => 1 } values %$rand_ports;
                $rand_ports->{$var} = _gen_rand_port(\%used)
                    // bail_out("$name - Cannot find an available listening "
                                . "port number for $var");
            }
            $rand_ports->{$var};
        } else {
            defined $ENV{$var}
                or bail_out("$name - No environment $var defined.");
            $ENV{$var};
        }
    }ge;
    return $text;
}

# ---------------------------------------------------------------------------
# Cleanup: always stop nginx, whatever happens
# ---------------------------------------------------------------------------

sub _install_signal_handlers {
    for my $sig (qw(INT TERM HUP)) {
        $SIG{$sig} = sub {
            if ($$ == $MainPid) {
                Test::More::diag("caught SIG$sig; stopping nginx");
                _cleanup();
            }
            $SIG{$sig} = 'DEFAULT';
            kill $sig, $$;
        };
    }
}

sub _cleanup {
    return if $CleanedUp || $$ != $MainPid;
    $CleanedUp = 1;
    for my $hdl (@CleanupHandlers) {
        eval { $hdl->() };
        Test::More::diag("cleanup handler failed: $@") if $@;
    }
    _stop_nginx('cleanup') if $Nginx{pid};
}

END {
    if ($$ == $MainPid) {
        local $?;
        _cleanup();
        if (-d $ServRoot && !$NoNginxManager) {
            my $tb = Test::More->builder;
            my $failed = grep { !$_ } $tb->summary;
            if ($ENV{TEST_NGINX_NO_CLEAN}) {
                # nothing to do: keep everything for inspection
            } elsif ($failed || $BailedOut) {
                Test::More::diag("server root kept for inspection: $ServRoot "
                                 . "(last block's conf/ and logs/)");
            } else {
                File::Path::remove_tree($ConfDir, $HtmlDir, $LogDir,
                                        glob("$ServRoot/*_temp"),
                                        glob("$ServRoot/*_cache"));
                rmdir $ServRoot;
            }
        }
    }
}

1;

__END__

=head1 NAME

Test::Nginx::Socket - in-tree, dependency-light Test::Nginx::Socket runner

=head1 SYNOPSIS

    use Test::Nginx::Socket;

    repeat_each(2);
    plan tests => repeat_each() * (blocks() * 2);
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello

=head1 DESCRIPTION

See F<t/README.md> for the supported sections, functions and environment
variables, and for what differs from the CPAN module.

=cut
