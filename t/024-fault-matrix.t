# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The SES fault matrix: every way SES can fail (500, 503, throttling, a
# garbage answer, a dropped connection, no answer until the timeout) during
# every operation that calls it (add, refresh, resend, delete, migrate,
# background polling).  One block per cell, so that a failure names it.
#
# Each API cell, in the block's requests:
#   1. the call SES fails: its documented status and JSON error (shape
#      {"error":{"code","message","ses_error_type"}}, code, SES's error type,
#      the message), Retry-After: 30 on 503 only, JSON content type;
#   2. the store afterwards: GET of the row and of the card, compared field
#      by field with what they were before the call ("changed=" lists the
#      fields that differ), or the documented half-way state ("creating")
#      for add and migrate; a failed migrate still resolves the legacy
#      sender;
#   3. the fault cleared (DELETE /sim/faults), the same call again
#      completes the operation, and SES holds what the store says (no
#      orphan, no duplicate, no second verification mail).
# The error log must show the module's own line for the failed SES call
# (operation, identity, outcome): the error came from that fault.
#
# Each background-polling cell (the refresher at a 1 s interval), in the
# block's --- init (its checks are named after the block) and requests:
#   1. three rows due, every GetEmailIdentity fails until cleared;
#   2. during the fault: rows intact (only last_checked_at / next_check_at
#      move; throttled rows do not change at all), no last_error, and the
#      next check backs off (at least two intervals after the failed one);
#   3. the error log says so once for the incident: "background refresh
#      failing", or "SES is throttling calls" for 429 (then "SES stopped
#      throttling calls" when polls succeed again);
#   4. the fault cleared and the DNS records published, every row turns
#      verified by itself; after throttling, not before the 30 s pause.
#
# Drops are queued twice: on a kept-alive connection libcurl retries a
# request once, on a fresh connection, when the old one dies before any
# byte of the answer (the last block shows it).  Timeouts use a short
# sender_domains_ses_timeout so that the file stays fast.
# docs/reliability.md section 5 has the table.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use JSON::PP ();
use Time::Local ();

repeat_each(1);
no_shuffle();
check_accum_error_log();

# Per-call timeout, and how long the simulator holds a "timeout" call: past
# it, so that the module's timer, not the simulator, ends the call.
# Valgrind makes every call 20-50 times slower: give ordinary calls room.
our $SES_TIMEOUT = $ENV{TEST_NGINX_USE_VALGRIND} ? 3 : 1;
our $HOLD = $SES_TIMEOUT + 2;

# The blocks' configuration: SdTest's plumbing (store, SES simulator),
# its standard /api/ and /sim/ locations (see t/lib/SdTest.pm), with that
# timeout; the background poll's cells poll every second.
our $HttpConfig = SdTest::http_config(
    "sender_domains_ses_timeout ${SES_TIMEOUT}s;");
our $PollHttpConfig = SdTest::http_config(
    "sender_domains_ses_timeout ${SES_TIMEOUT}s;\n"
    . "sender_domains_refresh_interval 1s;");
our $Config = SdTest::api_config();

# What each fault must come back as.  log: the module's warn line for the
# failed call, "SES <Operation> "<identity>" failed: <this>"; type and log
# differ for the v1 Query API (resend: VerifyEmailIdentity).
our %FAULT = (
    '500' => {
        status => 503, code => 'ses_unavailable', retry_after => 1,
        message => 'Amazon SES is busy or unavailable (Internal service '
                   . 'error.); nothing was lost. Try again in a minute.',
        v2 => ['InternalServiceErrorException',
               'server_error (HTTP 500, InternalServiceErrorException)'],
        v1 => ['InternalFailure', 'server_error (HTTP 500, InternalFailure)'],
    },
    '503' => {
        status => 503, code => 'ses_unavailable', retry_after => 1,
        message => 'Amazon SES is busy or unavailable (Service '
                   . 'Unavailable); nothing was lost. Try again in a minute.',
        v2 => ['ServiceUnavailable',
               'server_error (HTTP 503, ServiceUnavailable)'],
        v1 => ['ServiceUnavailable',
               'server_error (HTTP 503, ServiceUnavailable)'],
    },
    '429' => {
        status => 503, code => 'ses_unavailable', retry_after => 1,
        message => 'Amazon SES is busy or unavailable (Maximum sending rate '
                   . 'exceeded.); nothing was lost. Try again in a minute.',
        v2 => ['TooManyRequestsException',
               'throttled (HTTP 429, TooManyRequestsException)'],
        v1 => ['Throttling', 'throttled (HTTP 400, Throttling)'],
    },
    garbage => {
        status => 502, code => 'ses_error', retry_after => 0,
        message => 'Amazon SES sent an answer that could not be read. '
                   . 'Try again.',
        v2 => ['', 'malformed (HTTP 200, no error type)'],
        v1 => ['', 'malformed (HTTP 200, no error type)'],
    },
    drop => {
        status => 503, code => 'ses_unavailable', retry_after => 1,
        count => 2,
        message => 'Amazon SES is busy or unavailable (Amazon SES could not '
                   . 'be reached.); nothing was lost. Try again in a minute.',
        v2 => ['', 'connect_failed (HTTP 0, no error type)'],
        v1 => ['', 'connect_failed (HTTP 0, no error type)'],
    },
    timeout => {
        status => 504, code => 'ses_timeout', retry_after => 0,
        message => 'Amazon SES did not answer in time; nothing was lost. '
                   . 'Try again.',
        v2 => ['', 'timeout (HTTP 0, no error type)'],
        v1 => ['', 'timeout (HTTP 0, no error type)'],
    },
);

# The operations: the identity, the SES call the fault is queued for, the
# API version of that call, and the block's requests after the failed one
# (built by the subs below).
our %OP = (
    add     => { id => 'acme.com', ses => 'CreateEmailIdentity', api => 'v2' },
    refresh => { id => 'acme.com', ses => 'GetEmailIdentity', api => 'v2' },
    resend  => { id => 'me@acme.com', ses => 'VerifyEmailIdentity',
                 api => 'v1' },
    delete  => { id => 'acme.com', ses => 'DeleteEmailIdentity', api => 'v2' },
    migrate => { id => 'ops@acme.com', ses => 'CreateEmailIdentity',
                 api => 'v2' },
    poll    => { ses => 'GetEmailIdentity', api => 'v2' },
);

our @POLLED = qw(a1.example a2.example a3.example);

# ---- talking to nginx and the simulator from --- init ----------------------

my $J = JSON::PP->new->canonical->allow_nonref;

sub api {
    my ($method, $path, $body, $role) = @_;
    return SdTest::api($method, $path, $body, 'acme', $role);
}

sub decode { my $j = eval { $J->decode($_[0] // '') }; return $j }

sub row { my (undef, $b) = api(GET => "/$_[0]"); return decode($b) || {} }

sub card { my (undef, $b) = api(GET => '/'); return decode($b) || {} }

sub queue_fault {
    my ($kind, $match, $count) = @_;
    SdTest::sim(POST => '/faults', $J->encode({
        kind => $kind, match => $match, delay => $HOLD + 0,
        count => $count // $FAULT{$kind}{count} // 1}));
}

# ---- views: one line per answer, for --- response_body_like -----------------

# The state of the store before the failed call, for the "changed=" lists.
our %Before;

sub v {
    my $x = shift;
    return 'null' unless defined $x;
    return $x ? 'true' : 'false' if JSON::PP::is_bool($x);
    return $x->{code} // 'object' if ref $x eq 'HASH';
    return $x;
}

# The fields of two decoded objects that differ, or "none".
sub changed {
    my ($old, $new) = @_;
    my %k = map { $_ => 1 } keys %$old, keys %$new;
    my @c = grep { exists $old->{$_} != exists $new->{$_}
                   || $J->encode($old->{$_}) ne $J->encode($new->{$_}) }
            sort keys %k;
    return @c ? join(',', @c) : 'none';
}

sub err_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'HASH';
    my $top = join ',', sort keys %$j;
    return "top-level fields: $top" unless $top eq 'error';
    my $e = $j->{error};
    return 'error is not an object' unless ref $e eq 'HASH';
    for my $k (qw(code message)) {
        return "error.$k is not a non-empty string"
            unless defined $e->{$k} && !ref $e->{$k} && length $e->{$k};
    }
    my @extra = grep { !/^(code|message|ses_error_type)$/ } sort keys %$e;
    return "unexpected error fields: @extra" if @extra;
    my $s = "code=$e->{code}";
    $s .= " type=$e->{ses_error_type}" if exists $e->{ses_error_type};
    return "$s message=$e->{message}";
}

sub row_line {
    my $r = shift;
    return join ' ', map({ "$_=" . v($r->{$_}) }
                         qw(kind state dkim_status verified_for_sending
                            origin last_error)),
                     qq(sender_name="$r->{sender_name}");
}

sub row_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'HASH';
    return err_view($body) if $j->{error};
    my $s = row_line($j);
    $s .= ' changed=' . changed($Before{row}, $j) if $Before{row};
    return $s;
}

sub card_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'HASH';
    return err_view($body) if $j->{error};
    my %old = map { $_->{identity} => $_ }
              @{ $Before{card} ? $Before{card}{identities} : [] };
    return join ' | ', map {
        my $s = "$_->{identity} " . row_line($_);
        $s .= ' changed=' . changed($old{$_->{identity}}, $_)
            if $old{$_->{identity}};
        $s;
    } @{ $j->{identities} || [] };
}

sub resolve_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'HASH';
    return "from=" . v($j->{from}) . " source=" . v($j->{source})
           . " fallback=" . v($j->{fallback});
}

# What SES holds: "name" per identity, "name emails=N" for addresses.
sub ses_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'ARRAY';
    return join ' ', map {
        $_->{identity} . (defined $_->{verification_email_count}
                          ? " emails=$_->{verification_email_count}" : '')
    } sort { $a->{identity} cmp $b->{identity} } @$j;
}

# The refresher's GetEmailIdentity calls: per identity, the outcomes seen
# (the fault kind, "ok"), and for throttling how long polling paused.
sub polls_view {
    my $j = decode(my $body = shift);
    return "not JSON: $body" unless ref $j eq 'ARRAY';
    my (%seen, $last_429, $first_ok_after);
    for my $c (sort { $a->{time} <=> $b->{time} } @$j) {
        my $o = $c->{fault} // ($c->{status} == 200 ? 'ok' : $c->{status});
        $seen{ $c->{identity} }{$o} = 1;
        $last_429 = $c->{time} if $o eq '429';
        $first_ok_after //= $c->{time} if $o eq 'ok' && defined $last_429;
    }
    # fault kinds first, then "ok"
    my $s = join ' ', map {
        "$_=" . join('+', sort { ($a eq 'ok') <=> ($b eq 'ok') || $a cmp $b }
                          keys %{ $seen{$_} })
    } sort keys %seen;
    if (defined $last_429) {
        my $p = defined $first_ok_after ? $first_ok_after - $last_429 : -1;
        $s .= $p >= 29 ? ' paused>=29s' : sprintf ' paused=%.1fs', $p;
    }
    return $s;
}

sub raw_view { return $_[0] }

# ---- the cells ---------------------------------------------------------------

sub err_step {
    my ($req, $op, $kind) = @_;
    my $f = $FAULT{$kind};
    my ($type) = @{ $f->{ $OP{$op}{api} } };
    return { req => $req, status => $f->{status}, view => \&err_view,
             like => '^' . quotemeta("code=$f->{code} type=$type "
                                     . "message=$f->{message}") . '$',
             headers => "Content-Type: application/json; charset=utf-8\n"
                        . ($f->{retry_after} ? "Retry-After: 30"
                                             : "!Retry-After") };
}

sub step {
    my ($req, $status, $view, $like) = @_;
    return { req => $req, status => $status, view => $view, like => $like,
             headers => '' };
}

# Rows as row_line() shows them.
sub row_re {
    my (%w) = @_;
    my $s = join ' ', map { "$_=" . ($w{$_} // '\S+') }
                      qw(kind state dkim_status verified_for_sending origin
                         last_error);
    $s .= ' sender_name="' . ($w{sender_name} // '[^"]*') . '"';
    # what changed since before the failed call; after a successful retry
    # the row has moved on, and the steps check the fields that matter
    $s .= defined $w{changed} ? " changed=$w{changed}" : '( changed=\S+)?';
    return $s;
}

sub clear_faults {
    return step("DELETE /sim/faults", 200, \&raw_view, '"faults":\s*\[\]');
}

my %STEPS = (

    # add: the claim is saved before SES is called; the failed create
    # leaves it "creating" with last_error; adding again finishes it
    add => sub {
        my ($kind, $code) = @_;
        return (
            err_step(qq(POST /api/\n{"identity":"acme.com"}), add => $kind),
            step("GET /api/acme.com", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'creating',
                 dkim_status => 'pending', verified_for_sending => 'false',
                 origin => 'null', last_error => $code) . '$'),
            step("GET /api/", 200, \&card_view, '^acme\.com ' . row_re(
                 state => 'creating', origin => 'null',
                 last_error => $code) . '$'),
            clear_faults(),
            step(qq(POST /api/\n{"identity":"acme.com"}), 201, \&row_view,
                 '^' . row_re(kind => 'managed', state => 'ready',
                              dkim_status => 'pending',
                              verified_for_sending => 'false',
                              origin => 'created', last_error => 'null')
                 . '$'),
            step("GET /api/", 200, \&card_view, '^acme\.com ' . row_re(
                 state => 'ready', origin => 'created',
                 last_error => 'null') . '$'),
            step("GET /sim/identities", 200, \&ses_view, '^acme\.com$'),
        );
    },

    # refresh: the row stays as it was but for last_error; the next
    # refresh reads SES (here, verified since the records were published)
    refresh => sub {
        my ($kind, $code) = @_;
        return (
            err_step("POST /api/acme.com/refresh", refresh => $kind),
            step("GET /api/acme.com", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'ready',
                 dkim_status => 'pending', verified_for_sending => 'false',
                 origin => 'created', last_error => $code,
                 changed => 'last_error') . '$'),
            step("GET /api/", 200, \&card_view, '^acme\.com ' . row_re(
                 state => 'ready', last_error => $code,
                 changed => 'last_error') . '$'),
            clear_faults(),
            step(qq(POST /sim/dns/publish\n{"identity":"acme.com"}), 200,
                 \&raw_view, 'published'),
            step("POST /api/acme.com/refresh", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'ready',
                 dkim_status => 'verified', verified_for_sending => 'true',
                 origin => 'created', last_error => 'null') . '$'),
            step("GET /api/", 200, \&card_view, '^acme\.com ' . row_re(
                 state => 'ready', dkim_status => 'verified',
                 last_error => 'null') . '$'),
        );
    },

    # resend: nothing changes (the last sent time stays); resending again
    # works, and SES sent exactly one more mail
    resend => sub {
        my ($kind, $code) = @_;
        return (
            err_step("POST /api/me\@acme.com/resend-verification",
                     resend => $kind),
            step("GET /api/me\@acme.com", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'ready', origin => 'created',
                 verified_for_sending => 'false', last_error => 'null',
                 changed => 'none') . '$'),
            step("GET /api/", 200, \&card_view, '^me\@acme\.com ' . row_re(
                 state => 'ready', last_error => 'null',
                 changed => 'none') . '$'),
            clear_faults(),
            step("POST /api/me\@acme.com/resend-verification", 200,
                 \&row_view, '^' . row_re(kind => 'managed', state => 'ready',
                                          verified_for_sending => 'false',
                                          last_error => 'null') . '$'),
            step("GET /sim/identities", 200, \&ses_view,
                 '^me\@acme\.com emails=2$'),
        );
    },

    # delete: the row stays, unchanged; deleting again removes it here and
    # in SES (origin: created)
    delete => sub {
        my ($kind, $code) = @_;
        return (
            err_step("DELETE /api/acme.com", delete => $kind),
            step("GET /api/acme.com", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'ready', origin => 'created',
                 last_error => 'null', changed => 'none') . '$'),
            step("GET /api/", 200, \&card_view, '^acme\.com ' . row_re(
                 state => 'ready', changed => 'none') . '$'),
            clear_faults(),
            step("DELETE /api/acme.com", 204, \&raw_view, '^$'),
            step("GET /api/acme.com", 404, \&err_view,
                 '^code=not_found message=No such sender in this '
                 . 'workspace\.$'),
            step("GET /api/", 200, \&card_view, '^$'),
            step("GET /sim/identities", 200, \&ses_view, '^$'),
        );
    },

    # migrate: the managed row waits in "creating" (the card shows it in
    # place of the legacy row, as documented) while the legacy sender
    # keeps resolving; migrating again finishes it
    migrate => sub {
        my ($kind, $code) = @_;
        my $legacy = '^from=Acme Ops <ops\@acme\.com> source=legacy '
                     . 'fallback=false$';
        return (
            err_step("POST /api/ops\@acme.com/migrate", migrate => $kind),
            step("GET /api/resolve?from=ops%40acme.com", 200,
                 \&resolve_view, $legacy),
            step("GET /api/ops\@acme.com", 200, \&row_view, '^' . row_re(
                 kind => 'managed', state => 'creating',
                 verified_for_sending => 'false', origin => 'null',
                 last_error => $code, sender_name => 'Acme Ops') . '$'),
            step("GET /api/", 200, \&card_view, '^ops\@acme\.com ' . row_re(
                 kind => 'managed', state => 'creating',
                 last_error => $code, sender_name => 'Acme Ops') . '$'),
            clear_faults(),
            step("POST /api/ops\@acme.com/migrate", 200, \&row_view,
                 '^' . row_re(kind => 'managed', state => 'ready',
                              verified_for_sending => 'false',
                              origin => 'created', last_error => 'null',
                              sender_name => 'Acme Ops') . '$'),
            step("GET /api/resolve?from=ops%40acme.com", 200,
                 \&resolve_view, $legacy),
            step("GET /sim/identities", 200, \&ses_view,
                 '^ops\@acme\.com emails=1$'),
        );
    },

    # background polling: --- init did the work (poll_cell); what is left
    # is the end state
    poll => sub {
        my ($kind) = @_;
        my $rows = join ' \| ', map { quotemeta($_) . ' ' . row_re(
            kind => 'managed', state => 'ready', dkim_status => 'verified',
            verified_for_sending => 'true', last_error => 'null') } @POLLED;
        my $calls = join ' ', map {
            quotemeta($_) . ($kind eq '429' ? '=(429\+)?ok' : "=$kind\\+ok")
        } @POLLED;
        $calls .= ' paused>=29s' if $kind eq '429';
        return (
            step("GET /api/", 200, \&card_view, "^$rows\$"),
            step("GET /sim/calls?action=GetEmailIdentity", 200,
                 \&polls_view, "^$calls\$"),
        );
    },
);

# --- init of the API cells: the row before the call, then the fault.
sub api_cell {
    my ($op, $kind, $cell) = @_;
    %Before = ();
    SdTest::sim_reset();

    if ($op eq 'migrate') {
        my ($st) = api(PUT => '/legacy', '[{"address":"ops@acme.com",'
                       . '"sender_name":"Acme Ops"}]', 'service');
        Test::More::is($st, 200, "$cell - setup: PUT /legacy");

    } elsif ($op ne 'add') {
        my ($st) = api(POST => '/', qq({"identity":"$OP{$op}{id}"}));
        Test::More::is($st, 201, "$cell - setup: add $OP{$op}{id}");
        $Before{row} = row($OP{$op}{id});
        $Before{card} = card();
    }

    queue_fault($kind, $OP{$op}{ses});
}

# --- init of the polling cells (see the top of the file).
sub poll_cell {
    my ($kind, $cell) = @_;
    SdTest::sim_reset();

    # the fault first: a poll that got through between the snapshot below
    # and the fault would change the row (seen under valgrind); adds make
    # no GetEmailIdentity call, and a throttled poll pauses polling only
    queue_fault($kind, 'GetEmailIdentity', -1);

    for my $id (@POLLED) {
        my ($st) = api(POST => '/', qq({"identity":"$id"}));
        Test::More::is($st, 201, "$cell - setup: add $id");
    }
    my %added = map { $_ => row($_) } @POLLED;

    # the refresher met the fault: throttled rows are left as they are,
    # others record the failed check (the poll's batch is saved at its end)
    my $valgrind = $ENV{TEST_NGINX_USE_VALGRIND} ? 4 : 1;
    my $met = SdTest::wait_until(15 * $valgrind, sub {
        $kind eq '429'
        ? SdTest::sim(GET => '/calls?action=GetEmailIdentity')
              =~ /"fault": "429"/
        : !grep { (row($_)->{last_checked_at} // '')
                  eq ($added{$_}{last_checked_at} // '') } @POLLED
    });
    Test::More::ok($met, "$cell - the refresher's polls met the fault");

    for my $id (@POLLED) {
        my $now = row($id);
        Test::More::is(changed($added{$id}, $now),
                       $kind eq '429' ? 'none'
                                      : 'last_checked_at,next_check_at',
                       "$cell - during the fault: $id keeps its data");
        Test::More::like(row_line($now), qr/^${\ row_re(
            kind => 'managed', state => 'ready', dkim_status => 'pending',
            verified_for_sending => 'false', origin => 'created',
            last_error => 'null') }$/,
            "$cell - during the fault: $id is ready, pending, no last_error");
        next if $kind eq '429';
        my $wait = epoch($now->{next_check_at})
                   - epoch($now->{last_checked_at});
        Test::More::cmp_ok($wait, '>=', 2, "$cell - during the fault: $id "
                           . "backs off (next check ${wait}s after the "
                           . "failed one; interval 1s)");
    }
    Test::More::is(join(' ', map { $_->{identity} . ' ' . v($_->{last_error}) }
                             @{ card()->{identities} || [] }),
                   join(' ', map { "$_ null" } @POLLED),
                   "$cell - during the fault: the card lists every row, "
                   . "no last_error");

    # SES answers again; the records appear; the refresher alone verifies
    SdTest::sim(DELETE => '/faults');
    SdTest::sim(POST => '/dns/publish', qq({"identity":"$_"})) for @POLLED;

    # (the simulator logs a held "timeout" call only when it lets it go)
    SdTest::wait_until(($kind eq '429' ? 45 : 15) * $valgrind, sub {
        !(grep { !row($_)->{verified_for_sending} } @POLLED)
        && ($kind eq '429' || polls_view(SdTest::sim(GET =>
                '/calls?action=GetEmailIdentity')) !~ /=ok(?: |$)/)
    });
}

sub epoch {
    my ($y, $mo, $d, $h, $mi, $s) = ($_[0] // '') =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/ or return 0;
    return Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
}

# --- cell: OP KIND  ->  the block's init, config and expectations
add_block_preprocessor(sub {
    my $block = shift;
    my $cell = $block->cell or return;
    my ($op, $kind) = split ' ', $cell;
    die "unknown cell '$cell'" unless $OP{$op} && $FAULT{$kind};
    my $name = "$0 " . $block->name;      # as the runner names the block
    my $code = $FAULT{$kind}{code};

    $block->set_value(init => $op eq 'poll'
        ? "::poll_cell('$kind', q{$name})"
        : "::api_cell('$op', '$kind', q{$name})");

    my @steps = $STEPS{$op}->($kind, $code);
    $block->set_value(request => [map { $_->{req} } @steps]);
    $block->set_value(more_headers => "X-WS: acme\nX-Role: admin\n"
                      . "X-Plan: professional\nContent-Type: application/json");
    $block->set_value(error_code => [map { $_->{status} } @steps]);
    $block->set_value(response_headers => [map { $_->{headers} } @steps]);
    $block->set_value(response_body_filters => [map { [$_->{view}] } @steps]);
    $block->set_value(response_body_like => [map { $_->{like} } @steps]);

    my $id = $op eq 'poll' ? 'a[123]\.example' : quotemeta $OP{$op}{id};
    my $log = $FAULT{$kind}{ $OP{$op}{api} }[1];
    $block->set_value(error_log =>
        [qr/sender_domains: SES $OP{$op}{ses} "$id" failed: \Q$log\E/]);

    if ($op eq 'poll') {
        # the incident's line, once; throttling also says when it ended
        my $lines = join '|', 'background refresh failing',
                         'SES is throttling calls',
                         'SES stopped throttling calls';
        $block->set_value(grep_error_log => qr/$lines/);
        $block->set_value(grep_error_log_out => $kind eq '429'
            ? "SES is throttling calls\nSES stopped throttling calls\n"
            : "background refresh failing\n");
    }
});

run_tests();

__DATA__

=== TEST 1: add x SES 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add 500



=== TEST 2: add x SES 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add 503



=== TEST 3: add x throttling (429)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add 429



=== TEST 4: add x garbage answer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add garbage



=== TEST 5: add x dropped connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add drop



=== TEST 6: add x no answer until the timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: add timeout



=== TEST 7: refresh x SES 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh 500



=== TEST 8: refresh x SES 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh 503



=== TEST 9: refresh x throttling (429)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh 429



=== TEST 10: refresh x garbage answer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh garbage



=== TEST 11: refresh x dropped connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh drop



=== TEST 12: refresh x no answer until the timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: refresh timeout



=== TEST 13: resend-verification x SES 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend 500



=== TEST 14: resend-verification x SES 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend 503



=== TEST 15: resend-verification x throttling (429)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend 429



=== TEST 16: resend-verification x garbage answer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend garbage



=== TEST 17: resend-verification x dropped connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend drop



=== TEST 18: resend-verification x no answer until the timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: resend timeout



=== TEST 19: delete x SES 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete 500



=== TEST 20: delete x SES 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete 503



=== TEST 21: delete x throttling (429)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete 429



=== TEST 22: delete x garbage answer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete garbage



=== TEST 23: delete x dropped connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete drop



=== TEST 24: delete x no answer until the timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: delete timeout



=== TEST 25: migrate x SES 500
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate 500



=== TEST 26: migrate x SES 503
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate 503



=== TEST 27: migrate x throttling (429)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate 429



=== TEST 28: migrate x garbage answer
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate garbage



=== TEST 29: migrate x dropped connection
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate drop



=== TEST 30: migrate x no answer until the timeout
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- cell: migrate timeout



=== TEST 31: background polling x SES 500
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll 500



=== TEST 32: background polling x SES 503
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll 503



=== TEST 33: background polling x throttling (429)
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll 429



=== TEST 34: background polling x garbage answer
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll garbage



=== TEST 35: background polling x dropped connection
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll drop



=== TEST 36: background polling x no answer until the timeout
--- http_config eval: $::PollHttpConfig
--- config eval: $::Config
--- cell: poll timeout



=== TEST 37: why drops are queued twice: one drop on a kept-alive connection is retried by libcurl, and the refresh succeeds
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"acme.com"}');
::queue_fault('drop', 'GetEmailIdentity', 1);
--- request eval
[
"POST /api/acme.com/refresh",
"GET /sim/calls?action=GetEmailIdentity",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[200, 200]
--- response_body_filters eval
[[\&::row_view], [\&::polls_view]]
--- response_body_like eval
[
'^kind=managed state=ready .* last_error=null ',
'^acme\.com=drop\+ok$',
]
--- no_error_log
failed: connect_failed



=== TEST 38: a resend is never sent twice: one drop on a kept-alive connection is not retried (a second VerifyEmailIdentity would be a second mail)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- init
SdTest::sim_reset();
::api(POST => '/', '{"identity":"me@acme.com"}');
::api(POST => '/me@acme.com/refresh');
::queue_fault('drop', 'VerifyEmailIdentity', 1);
--- request eval
[
"POST /api/me\@acme.com/resend-verification",
"GET /sim/calls?action=VerifyEmailIdentity",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
--- error_code eval
[503, 200]
--- response_body_filters eval
[[], [\&::polls_view]]
--- response_body_like eval
[
'"code":"ses_unavailable"',
'^me\@acme\.com=drop$',
]
--- error_log
SES VerifyEmailIdentity "me@acme.com" failed: connect_failed
