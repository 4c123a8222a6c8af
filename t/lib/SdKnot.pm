# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
package SdKnot;

# A real authoritative DNS server for the DNS diagnosis tests: Debian's
# Knot DNS (knotd), started once per .t file on a loopback port with one
# zone per scenario, stopped when the file ends.
#
#   use SdKnot zones => ['dkim-ok.test', ...],   # before "use SdTest"
#              broken => ['servfail.test'];        # answered SERVFAIL
#   $ENV{TEST_NGINX_KNOT_PORT}                     # its port
#   SdKnot::zone('dkim-ok.test', $records)         # rewrite + reload
#   SdKnot::add_domain('dkim-ok.test')             # POST /api/, the tokens
#
# A zone's file is written by the test and loaded with "knotc -b
# zone-reload", which returns once Knot serves the new contents.

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

our ($Pid, $Dir, $Port, $Serial);

$Serial = time;

sub import {
    my ($class, %opt) = @_;
    start($opt{zones} || [], $opt{broken} || []);
}

sub free_port {
    # a port free for both UDP and TCP on loopback
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                      Proto => 'udp') or next;
        my $p = $s->sockport;
        my $t = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      Listen => 1, ReuseAddr => 1);
        close $s;
        next unless $t;
        close $t;
        return $p;
    }
    die "no free port for knotd";
}

# zones: served; broken: configured with a zone file Knot cannot load, so
# that it answers SERVFAIL for them
sub start {
    my ($zones, $broken) = @_;

    -x '/usr/sbin/knotd' or die "knotd is missing: apt-get install knot";

    $Dir = tempdir('sd-knot-XXXXXX', TMPDIR => 1, CLEANUP => 0);
    make_path("$Dir/zones", "$Dir/db");
    $Port = free_port();

    open my $c, '>', "$Dir/knot.conf" or die "$Dir/knot.conf: $!";
    print $c <<"EOF";
server:
    rundir: "$Dir"
    listen: 127.0.0.1\@$Port
database:
    storage: "$Dir/db"
control:
    listen: "$Dir/knot.sock"
log:
  - target: "$Dir/knot.log"
    any: info
template:
  - id: default
    storage: "$Dir/zones"
    file: "%s.zone"
    journal-content: none
    zonefile-sync: -1
zone:
EOF
    for my $z (@$zones, @$broken) {
        print $c "  - domain: $z\n";
        write_zone($z, '');
    }
    for my $z (@$broken) {
        open my $f, '>', "$Dir/zones/$z.zone" or die "$z: $!";
        print $f "this is not a zone file\n";
        close $f;
    }
    close $c;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$Dir/knotd.out";
        open STDERR, '>&', \*STDOUT;
        exec '/usr/sbin/knotd', '-c', "$Dir/knot.conf"
            or POSIX::_exit(127);
    }

    $Pid = $pid;
    $ENV{TEST_NGINX_KNOT_PORT} = $Port;

    # ready once the control socket answers
    for (1 .. 100) {
        return if -S "$Dir/knot.sock"
                  && system("/usr/sbin/knotc -s $Dir/knot.sock status "
                            . ">/dev/null 2>&1") == 0;
        Time::HiRes::sleep(0.1);
    }

    die "knotd did not start; see $Dir/knot.log";
}

sub stop {
    local $?;
    return unless $Pid;
    kill 'TERM', $Pid;
    waitpid $Pid, 0;
    undef $Pid;
    remove_tree($Dir) if $Dir && !$ENV{TEST_NGINX_KEEP_KNOT};
}

END { stop() }

sub write_zone {
    my ($zone, $records) = @_;
    $Serial++;
    open my $f, '>', "$Dir/zones/$zone.zone" or die "$zone: $!";
    print $f "\$ORIGIN $zone.\n\$TTL 60\n"
           . "\@ SOA ns.$zone. admin.$zone. $Serial 3600 600 86400 60\n"
           . "\@ NS ns.$zone.\nns A 127.0.0.1\n$records\n";
    close $f;
}

# Rewrites a zone with these records (zone file lines, names relative to
# the zone) and waits until Knot serves them.
sub zone {
    my ($zone, $records) = @_;
    write_zone($zone, $records);
    system("/usr/sbin/knotc -b -s $Dir/knot.sock zone-reload $zone "
           . ">/dev/null 2>&1") == 0
        or die "knotc zone-reload $zone failed; see $Dir/knot.log";
}

# Adds a domain through the API (workspace acme, admin) and returns its
# three DKIM tokens and the region of its MAIL FROM MX.
sub add_domain {
    my ($domain) = @_;
    my ($st, $b) = SdTest::api(POST => '/',
                               qq({"identity":"$domain","type":"domain"}));
    utf8::decode($b);
    die "add $domain: $st $b" unless $st == 201 || $st == 200;
    my @tokens = $b =~ /"name":"([a-z0-9]+)\._domainkey\./g;
    my ($region) = $b =~ /feedback-smtp\.([a-z0-9-]+)\.amazonses\.com/;
    die "add $domain: no tokens in $b" unless @tokens == 3;
    my ($stored) = $b =~ /^\{"identity":"([^"]+)"/;     # an IDN's A-label
    return (\@tokens, $region // 'us-east-1', $stored // $domain);
}

# The zone lines of a domain published right (names relative to it).
sub right {
    my ($tokens, $region) = @_;
    my $z = '';
    $z .= "$_._domainkey CNAME $_.dkim.amazonses.com.\n" for @$tokens;
    $z .= "pmail MX 10 feedback-smtp.$region.amazonses.com.\n";
    $z .= qq(pmail TXT "v=spf1 include:amazonses.com ~all"\n);
    $z .= qq(_dmarc TXT "v=DMARC1; p=none;"\n);
    return $z;
}

1;

package SdKnot;

# An answer of GET /{identity}/dns as one line per record, for
# --- response_body_filters: "zone VERDICT REASON", then
# "GROUP TYPE VERDICT REASON" per record (a record not ok followed by its
# diagnosis and "found: A | B" indented), then "overall VERDICT".
sub summary {
    my ($body) = @_;
    require JSON::PP;
    my $j = eval { JSON::PP::decode_json($body) } or return "not JSON: $body";
    return "error $j->{error}{code}\n" if $j->{error};
    my $out = '';
    if (my $z = $j->{zone}) {
        $out .= "zone $z->{verdict} $z->{reason}\n";
        $out .= "  $z->{diagnosis}\n  found: "
                . join(' | ', @{ $z->{found} }) . "\n"
            if $z->{verdict} ne 'ok';
    }
    for my $r (@{ $j->{records} || [] }) {
        $out .= "$r->{group} $r->{type} $r->{verdict} $r->{reason}\n";
        next if $r->{verdict} eq 'ok' && !$ENV{SD_SUMMARY_ALL};
        $out .= "  $r->{diagnosis}\n  found: "
                . join(' | ', @{ $r->{found} }) . "\n";
    }
    $out .= "overall $j->{verdict}\n";
    return $out;
}

1;

package SdKnot;

# Adds $domain (fresh simulator), then publishes what $make(tokens,
# region) returns.
sub scenario {
    my ($domain, $make) = @_;
    SdTest::sim_reset();
    my ($t, $region, $zone) = add_domain($domain);
    zone($zone, $make->($t, $region));
}

# The right records without the lines matching $re.
sub right_except {
    my ($t, $region, $re) = @_;
    return join '', grep { !/$re/ } split /^/m, right($t, $region);
}

# the usual answer check of a DNS test block
sub block_defaults {
    my $block = shift;
    $block->set_value('more_headers', "X-WS: acme\nX-Role: admin\n"
                                      . "X-Plan: professional")
        unless defined $block->more_headers;
    $block->set_value('response_body_filters', \&summary)
        unless defined $block->response_body_filters;
    $block->set_value('error_code', 200) unless defined $block->error_code;
}

1;
