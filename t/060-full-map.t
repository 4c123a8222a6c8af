# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A full LMDB map: writes answer 507 JSON storage_full and change nothing,
# reads and resolve keep working, and a restart with a larger size
# recovers with every row intact.  One workspace fills it here, so its
# identity limit is lifted (with the default limit of 100 one workspace
# cannot fill a map: t/072-quotas.t).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SdTest;
use File::Temp qw(tempdir);

repeat_each(1);
no_shuffle();
check_accum_error_log();

# outside the server root: it must survive from one block to the next
our $Dir = tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_SD_DB} = "$Dir/senders.mdb";

# The store (in $Dir, of SIZE) with no per-workspace limit and a call rate
# that filling it does not wait on; the standard /api/ and /sim/ locations
# (t/lib/SdTest.pm) and the fill's verdict.
sub http_config {
    my $size = shift;
    return SdTest::http_config(<<"_EOC_");
    sender_domains_db \$TEST_NGINX_SD_DB $size;
    sender_domains_ses_rate 1000;
    sender_domains_max_identities 0;
_EOC_
}
our $Config = SdTest::api_config(<<"_EOC_");
    location = /filled.txt { alias $Dir/filled.txt; }
_EOC_

sub add {
    my ($id) = @_;
    my ($st) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT}, POST => '/api/',
                            qq({"identity":"$id"}),
                            {'X-WS' => 'acme', 'X-Role' => 'admin',
                             'X-Plan' => 'professional'});
    return $st;
}

# Adds until five adds in a row are refused (near the end LMDB may still
# find room for a smaller write, so one refusal is not "full" yet), and
# records what came back: only 201s and 507 JSON, nothing else.
sub fill {
    SdTest::sim_reset();
    my ($n, $ok, $full, $other, $refused, $first) = (0, 0, 0, 0, 0, '');
    while ($n < 5000 && $refused < 5) {
        my ($st, $body) = SdTest::http($ENV{TEST_NGINX_SERVER_PORT},
            POST => '/api/', qq({"identity":"d$n.example"}),
            {'X-WS' => 'acme', 'X-Role' => 'admin',
             'X-Plan' => 'professional'});
        if ($st == 201) {
            $ok++;
            $refused = 0;
        } elsif ($st == 507) {
            $full++;
            $refused++;
            $first ||= $body;
        } else {
            $other++;
            $refused++;
        }
        $n++;
    }
    open my $o, '>', "$Dir/filled.txt";
    print $o "ok=$ok full=$full other=$other\n$first";
    close $o;
}

run_tests();

__DATA__

=== TEST 1: fill a 1 MiB store: 507 storage_full, reads go on
--- http_config eval: ::http_config("1m")
--- config eval: $::Config
--- init
::fill();
--- request eval
[
"GET /filled.txt",
"GET /api/d0.example",
"GET /api/resolve?from=a%40d1.example",
"GET /api/",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/^ok=[1-9]\d+ full=[1-9]\d* other=0\n\{"error":\{"code":"storage_full","message":"The sender store is full[^"]+"\}\}$/,
qr/"identity":"d0\.example"/,
qr/"fallback":true,"reason":"not_verified"/,
qr/"identities":\[\{"identity":"d0\.example"/,
]
--- error_log
store is full (workspace "acme"); raise the size in sender_domains_db



=== TEST 2: restart with a larger size: the rows are there, writes work again
--- http_config eval: ::http_config("8m")
--- config eval: $::Config
--- init
SdTest::sim(POST => '/reset', '{}');
--- request eval
[
"GET /api/",
"POST /api/
{\"identity\":\"after.example\"}",
"GET /filled.txt",
]
--- more_headers
X-WS: acme
X-Role: admin
X-Plan: professional
Content-Type: application/json
--- error_code eval
[200, 201, 200]
--- response_body_like eval
[
qr/^\{"plan_ok":true,"can_edit":true,"default_from":"[^"]+","identities":\[\{"identity":"d0\.example"/,
qr/"identity":"after\.example"/,
qr/full=[1-9]/,
]
