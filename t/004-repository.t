# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The repository stands alone and behaves on a shared machine: it holds
# everything its build and tests read (no path or document outside it is
# named), and no script stops processes it did not start.  Plain Test::More:
# no nginx is started.

use strict;
use warnings;
use Test::More;
use File::Find ();

my $root = $ENV{SD_ROOT} || '.';
chdir $root or die "chdir $root: $!";

# the project's own text files (vendored data and node_modules excluded)
my @files;
File::Find::find({ no_chdir => 1, wanted => sub {
    my $f = $File::Find::name;
    if (-d $f) {
        $File::Find::prune = 1
            if $f =~ m{^\./(?:\.git|build|node_modules|t/servroot[^/]*|\.sandbox)$}
            || $f =~ m{/node_modules$}
            || $f eq './t/unit/sigv4-testsuite'
            || $f eq './t/fuzz/corpus'
            || $f eq './t/nginx-src'
            || $f eq './t/e2e/output';
        return;
    }
    return if $f =~ m{\.(?:png|jpg|ico|woff2?)$} || $f =~ m{/package-lock\.json$};
    push @files, $f;
}}, '.');

sub grep_files {
    my ($re, @in) = @_;
    my @hits;
    for my $f (@in) {
        open my $fh, '<', $f or next;
        while (my $l = <$fh>) {
            push @hits, "$f:$.: $l" if $l =~ $re;
        }
    }
    return @hits;
}

ok(scalar(@files) > 50, "found the project's files (" . scalar(@files) . ")");

# ---- item 5: nothing outside the repository ---------------------------------

my @in_scope = grep { m{^\./(?:src|docs|t|conf-examples)/} || m{^\./Makefile\.dev$}
                      || m{^\./config$} || m{^\./README\.md$} } @files;
@in_scope = grep { $_ ne './t/004-repository.t' } @in_scope;

my @outside = grep_files(qr{\.\./shared|(?:^|[\s"'(=])/work/|shared/reference|shared/sigv4|
                            \bDESIGN\.md|ses-wire\.md|nginx-module-notes|
                            competitors\.md}x, @in_scope);
is(scalar(@outside), 0, 'no reference to files outside the repository')
    or diag(join '', @outside);

ok(-f 't/unit/sigv4-testsuite/LICENSE' && -f 't/unit/sigv4-testsuite/NOTICE',
   'the SigV4 test suite is in the repository with its LICENSE and NOTICE');

my @cases = grep { -d } glob 't/unit/sigv4-testsuite/*';
ok(@cases >= 30, 'the SigV4 suite has its cases (' . scalar(@cases) . ')');

my $mk = do { local (@ARGV, $/) = ('Makefile.dev'); <> };
like($mk, qr{^SIGV4_SUITE\s*\?=\s*\$\(ROOT\)/t/unit/sigv4-testsuite\s*$}m,
     "Makefile.dev's SIGV4_SUITE defaults to the in-tree suite");

# ---- item 6: no process the project did not start is touched ---------------

my @scripts = grep { $_ ne './t/004-repository.t' && !/\.md$/ } @files;
my @broad = grep_files(qr{\b(?:pkill|killall|killall5)\b|\bkill\s+(?:-\S+\s+)?0\b(?!\s*,)
                          |\bfuser\s+-k}x, @scripts);
is(scalar(@broad), 0, 'no pkill, killall, kill 0 or fuser -k anywhere')
    or diag(join '', @broad);

my $deps = `make -n -f Makefile.dev deps 2>&1`;
is($?, 0, 'make -n deps runs');
unlike($deps, qr{\b(?:pkill|killall|kill)\b}, 'make deps never stops a process');

# ---- item 7: a licence, and a copyright line in every source file -----------

my $lic = -f 'LICENSE' ? do { local (@ARGV, $/) = ('LICENSE'); <> } : '';
like($lic, qr{Copyright \(C\) 2026 Custom Sender Domains for nginx authors}
            , 'LICENSE names the copyright holder');
like($lic, qr{Redistributions\s+of\s+source\s+code\s+must\s+retain.*
              Redistributions\s+in\s+binary\s+form\s+must\s+reproduce}xs, 'LICENSE is the BSD 2-clause licence');

my @sources = grep { m{^\./src/.*\.[ch]$} || m{^\./t/(?:unit|fuzz)/[^/]*\.[ch]$}
                     || m{\.(?:py|sh|pl|pm|t|mjs)$} || $_ eq './config'
                     || $_ eq './Makefile.dev' } @files;
my @missing;
for my $f (@sources) {
    open my $fh, '<', $f or next;
    my $first = <$fh>;
    $first = <$fh> if defined $first && $first =~ /^#!/;
    push @missing, $f unless defined $first
        && $first =~ /^(?:#|\/\*|\/\/) Copyright \(C\) 2026 Custom Sender Domains for nginx authors; see LICENSE\./;
}
ok(@sources > 100, 'source files found (' . scalar(@sources) . ')');
is(scalar(@missing), 0, 'each source file starts with the copyright line'
                        . ' (after its #! line)')
    or diag(join "\n", @missing);

# ---- item 13: OpenSSL through nginx's OPENSSL keyword -------------------------

my $config = do { local (@ARGV, $/) = ('config'); <> };
my ($libs) = $config =~ /^ngx_module_libs="([^"]*)"/m;
like($libs // '', qr/(?:^|\s)OPENSSL(?:\s|$)/,
     "config names nginx's OPENSSL library in ngx_module_libs");
unlike($config, qr/-lcrypto|-lssl/, 'config links no libcrypto/libssl itself');

SKIP: {
    my $so = $ENV{TEST_NGINX_LOAD_MODULES} // '';
    ($so) = grep { /sender_domains/ && -f } split ' ', $so;
    skip 'the module is not built (TEST_NGINX_LOAD_MODULES)', 1 unless $so;
    my $dyn = `readelf -d '$so' 2>&1`;
    skip 'readelf is missing', 1 if $? != 0;
    unlike($dyn, qr/NEEDED.*lib(?:crypto|ssl)\.so/,
           'the .so loads no libcrypto of its own');
}

done_testing();
