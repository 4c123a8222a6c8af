# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The layout of the tree (docs/architecture.md): the glue files
# (src/ngx_http_sender_domains_*.c) depend on one another without cycles,
# except through the module's own configuration (the module variable
# ngx_http_sender_domains_module, through which every file finds its conf);
# and the core (src/core/) includes nothing but its own headers and system
# ones.  The dependencies are read from the built objects with nm: a glue
# object that uses a symbol another glue object defines depends on it.
# Plain Test::More: no nginx is started.  The objects come from
# `make -f Makefile.dev build` (SD_OBJS names another folder of them).

use strict;
use warnings;
use Test::More;

my $root = $ENV{SD_ROOT} || '.';
chdir $root or die "chdir $root: $!";

my $objs = $ENV{SD_OBJS} || 'build/nginx/objs/addon/src';
my @objs = sort glob("$objs/ngx_http_sender_domains_*.o");

# the sources the objects must match: one object per glue file
my @srcs = sort glob('src/ngx_http_sender_domains_*.c');
my %want = map { m{([^/]+)\.c$}; ($1 => 1) } @srcs;
my %have = map { m{([^/]+)\.o$}; ($1 => 1) } @objs;

ok(@objs > 0, "glue objects in $objs (make -f Makefile.dev build)")
    or BAIL_OUT("no objects in $objs: build the module first");
is_deeply([sort keys %have], [sort keys %want],
          'one object for each glue source in src/');

sub short { my $n = shift; $n =~ s/^ngx_http_sender_domains_//; $n }

# who defines what, who uses what
my (%defines, %uses);
for my $o (@objs) {
    my ($file) = $o =~ m{([^/]+)\.o$};
    next unless $want{$file};
    open my $nm, '-|', 'nm', $o or die "nm $o: $!";
    while (<$nm>) {
        if (/^\s+U\s+(\S+)$/) {
            $uses{$file}{$1} = 1;
        } elsif (/^[0-9a-f]+\s+[BDGRSTVW]\s+(\S+)$/) {
            $defines{$1} = $file;
        }
    }
    close $nm or die "nm $o failed\n";
}

# the one allowed shared point: the module file, which holds the module,
# its configuration and the worker's store handle that every file reads,
# and which hands nginx every file's directives, handlers and init
my $module = 'ngx_http_sender_domains_module';
my %through_conf = ($module => 1);

my (%edge, %why);
for my $f (keys %uses) {
    for my $s (keys %{ $uses{$f} }) {
        my $d = $defines{$s};
        next if !defined $d || $d eq $f || $through_conf{$s}
                || $d eq $module || $f eq $module;
        $edge{$f}{$d} = 1;
        $why{"$f $d"} //= $s;
    }
}

# the strongly connected components (Tarjan): each one of two or more
# files is a cycle
my ($index, @stack, %on, %idx, %low, @sccs) = (0);
my $visit;
$visit = sub {
    my $v = shift;
    $idx{$v} = $low{$v} = $index++;
    push @stack, $v;
    $on{$v} = 1;
    for my $w (sort keys %{ $edge{$v} || {} }) {
        if (!exists $idx{$w}) {
            $visit->($w);
            $low{$v} = $low{$w} if $low{$w} < $low{$v};
        } elsif ($on{$w}) {
            $low{$v} = $idx{$w} if $idx{$w} < $low{$v};
        }
    }
    if ($low{$v} == $idx{$v}) {
        my @c;
        my $w;
        do { $w = pop @stack; $on{$w} = 0; push @c, $w } while ($w ne $v);
        push @sccs, [sort @c] if @c > 1;
    }
};
$visit->($_) for grep { !exists $idx{$_} } sort keys %want;

my @report;
for my $c (@sccs) {
    my %in = map { ($_ => 1) } @$c;
    push @report, 'cycle: ' . join(' ', map { short($_) } @$c);
    for my $f (@$c) {
        for my $d (sort grep { $in{$_} } keys %{ $edge{$f} || {} }) {
            push @report, sprintf('  %s -> %s (%s)', short($f), short($d),
                                  $why{"$f $d"});
        }
    }
}
ok(!@sccs, 'no cycles among the glue files but through the module conf')
    or diag(join("\n", @report));

# the core: only its own headers and system ones
my @bad;
for my $f (sort glob('src/core/*.[ch]')) {
    open my $fh, '<', $f or die "$f: $!";
    while (<$fh>) {
        next unless /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;
        my ($q, $h) = ($1, $2);
        if ($q eq '"' ? !-e "src/core/$h" : $h =~ /^ngx_|^nginx/) {
            push @bad, "$f:$.: #include " . ($q eq '"' ? "\"$h\"" : "<$h>");
        }
    }
    close $fh;
}
ok(!@bad, 'the core includes only core and system headers')
    or diag(join("\n", @bad));

# and every core header it lists is in src/core, every glue file in src/
my @misplaced = (grep({ !m{^src/core/sd_} } glob('src/core/*.[ch]')),
                 grep({ !m{^src/ngx_http_sender_domains_} } glob('src/*.[ch]')));
ok(!@misplaced, 'core files are src/core/sd_*, glue files src/ngx_http_*')
    or diag(join("\n", @misplaced));

done_testing();
