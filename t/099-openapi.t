# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Every JSON answer the suite received (logged by the runner when
# TEST_NGINX_RESPONSE_LOG is set, as `make -f Makefile.dev prove` does)
# matches docs/openapi.yaml: status, content type and schema.  Runs last.

use strict;
use warnings;
use Test::More;

my $log = $ENV{TEST_NGINX_RESPONSE_LOG};

plan skip_all => 'TEST_NGINX_RESPONSE_LOG is not set (make -f Makefile.dev prove sets it)'
    unless $log && -s $log;
plan skip_all => 't/openapi/node_modules is missing (make -f Makefile.dev openapi)'
    unless -d 't/openapi/node_modules';

my $out = `node t/openapi/validate.mjs --openapi docs/openapi.yaml --prefix /api '$log' 2>&1`;
my $rc = $? >> 8;

my ($passed, $failed) = $out =~ /^(\d+) passed, (\d+) failed/m;

ok(defined $passed && $passed > 300,
   "the suite's answers were checked (" . ($passed // 0) . ")");
is($failed, 0, "every answer matches docs/openapi.yaml") or diag $out;
is($rc, 0, "the validator exits 0");

done_testing();
