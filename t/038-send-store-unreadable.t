# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# A send must not fail when the worker cannot open the store: GET /resolve
# and $sender_domains_from answer the default sender (200, fallback: true,
# reason store_unavailable) while the rest of the API answers 503.  The
# master (root) can create and check the store, but it lies in a directory
# only root may enter, and the workers run as nobody: the open fails in
# each worker, as with a store an operator left unreadable to www-data.

use lib 't/lib';
use File::Temp ();

my $Private;

BEGIN {
    # before Test::Nginx::Socket reads it: this file's workers are not root
    $ENV{TEST_NGINX_WORKER_USER} = 'nobody nogroup';
    $Private = File::Temp::tempdir('sd-038-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
    chmod 0700, $Private or die "chmod $Private: $!";
    $ENV{TEST_NGINX_PRIVATE_DIR} = $Private;
}

use Test::Nginx::Socket 'no_plan';
use SdTest;

repeat_each(1);
no_shuffle();
master_on();        # user switching happens in worker processes only

# the error_log checks of a block see all of its log, not one request's
check_accum_error_log();

plan skip_all => 'needs root (the master must enter the private directory)'
    if $> != 0;

run_tests();

__DATA__

=== TEST 1: the store cannot be opened by the workers: resolve and the variable still answer the default sender, with one warning for all workspaces
--- http_config
    sender_domains_db $TEST_NGINX_PRIVATE_DIR/senders.mdb 16m;
    sender_domains_default_from "Platform Reports <reports@platform.example>";
    sender_domains_ses_endpoint http://127.0.0.1:$TEST_NGINX_SES_PORT;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_workspace $http_x_ws;
        sender_domains_role $http_x_role;
        sender_domains_plan $http_x_plan;
    }
    location = /send {
        sender_domains_workspace $http_x_ws;
        sender_domains_plan $http_x_plan;
        add_header X-From $sender_domains_from always;
        return 204;
    }
--- request eval
[
"GET /api/resolve?from=reports%40acme.com",
"GET /api/resolve?from=reports%40acme.com",
"GET /send?from=reports%40acme.com",
"GET /api/",
"GET /api/resolve?from=reports%40other.example",
]
--- more_headers eval
[("X-WS: acme\nX-Role: admin\nX-Plan: professional") x 4,
 "X-WS: other\nX-Role: service\nX-Plan: professional"]
--- error_code eval
[200, 200, 204, 503, 200]
--- response_body eval
[
qq({"from":"Platform Reports <reports\@platform.example>","address":"reports\@platform.example","source":"default","fallback":true,"reason":"store_unavailable"}\n),
qq({"from":"Platform Reports <reports\@platform.example>","address":"reports\@platform.example","source":"default","fallback":true,"reason":"store_unavailable"}\n),
"",
qq({"error":{"code":"storage_unavailable","message":"The sender store could not be opened; see the error log."}}\n),
qq({"from":"Platform Reports <reports\@platform.example>","address":"reports\@platform.example","source":"default","fallback":true,"reason":"store_unavailable"}\n),
]
--- response_headers eval
["", "", "X-From: Platform Reports <reports\@platform.example>", "", ""]
--- error_log eval
qr/\[alert\].*sender_domains: .*senders\.mdb/
--- grep_error_log eval
qr/\[warn\].*the sender store is not open.*using the default sender[^,]*/
--- grep_error_log_out eval
[(qr/\A\[warn\][^\n]*workspace "acme" cannot look up its senders: the sender store is not open \(store_unavailable\); using the default sender\n\z/) x 5]
