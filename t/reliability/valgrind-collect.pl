#!/usr/bin/perl
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
#
# Reads the output of a TEST_NGINX_USE_VALGRIND prove run (as saved by
# t/reliability/valgrind.sh in build/valgrind/prove.log) and prints each
# distinct valgrind report once: how many blocks showed it, its first line
# ("N bytes in 1 blocks are definitely lost ...", "Invalid read ..."),
# and the suppression that valgrind generated for it.  Reports whose stack
# goes through the module (ngx_http_sender_domains_*, sd_*) are marked
# MODULE: those are bugs to fix, never entries for t/valgrind.suppress.
#
#   perl t/reliability/valgrind-collect.pl build/valgrind/prove.log

use strict;
use warnings;

my (%count, %first, %supp, %module);
my ($in, $hdr, $rec, $sup, $in_sup) = (0, '', '', '', 0);

sub flush {
    return if $sup eq '';
    my $key = $sup =~ s/<insert_a_suppression_name_here>/NAME/r;
    $count{$key}++;
    $first{$key} //= $hdr;
    $supp{$key} = $key;
    $module{$key} = 1
        if "$rec$sup" =~ /ngx_http_sender_domains|\bsd_[a-z0-9_]+/;
    ($hdr, $rec, $sup) = ('', '', '');
}

while (<>) {
    if (/ - valgrind:$/) { $in = 1; next }
    if ($in && !/^# /) { flush(); $in = 0; next }
    next unless $in;
    s/^# //;

    if (/^\{\s*$/) { $in_sup = 1; $sup = $_; next }
    if ($in_sup) {
        $sup .= $_;
        if (/^\}\s*$/) { $in_sup = 0; flush() }
        next;
    }

    if (/^==\d+== (.*\S.*)$/) {
        my $l = $1;
        if ($hdr eq '' && $l !~ /^\s*(at|by) /) {
            $hdr = $l =~ s/[\d,]+ (bytes|blocks)/N $1/gr
                      =~ s/loss record \d+ of \d+/loss record/r;
        }
        $rec .= "$l\n";
    }
}
flush();

for my $k (sort { ($module{$b} // 0) <=> ($module{$a} // 0)
                  || $count{$b} <=> $count{$a} } keys %count) {
    printf "%s%d x %s\n%s\n", $module{$k} ? "MODULE " : "", $count{$k},
           $first{$k}, $supp{$k};
}

printf "%d distinct report(s), %d through the module\n",
       scalar(keys %count), scalar(grep { $module{$_} } keys %count);
