# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# The module loads into Debian's nginx, and `nginx -t` refuses every bad
# directive with a message that names it.

use lib 't/lib';
use Test::Nginx::Socket;
use SdTest;

repeat_each(1);
plan tests => repeat_each() * (blocks() * 2);

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the module loads and the API answers JSON
--- request
GET /api/
--- more_headers
X-WS: acme
X-Plan: professional
--- error_code: 200
--- response_body_like: ^\{"plan_ok":true,



=== TEST 2: sender_domains_api without sender_domains_db
--- http_config
--- config
    location /api/ { sender_domains_api; sender_domains_workspace $http_x_ws; }
--- must_die
--- error_log
sender_domains_api requires sender_domains_db



=== TEST 3: a map size too small
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb 10k;
--- must_die
--- error_log
sender_domains_db: invalid map size "10k"



=== TEST 4: a default sender without an address
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_default_from "Reports";
--- must_die
--- error_log
sender_domains_default_from: invalid sender "Reports"



=== TEST 5: a header-injecting default sender
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_default_from "Reports <a@b.com>\r\nBcc: x@y.com";
--- must_die
--- error_log
sender_domains_default_from: invalid sender



=== TEST 6: a region that is not an AWS region
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_region "us east";
--- must_die
--- error_log
sender_domains_ses_region: invalid region "us east"



=== TEST 7: an endpoint that is not a URL
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_endpoint email.us-east-1.amazonaws.com;
--- must_die
--- error_log
sender_domains_ses_endpoint: invalid URL



=== TEST 8: a credentials file that does not exist
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_aws_credentials_file /nonexistent/credentials;
--- must_die
--- error_log
sender_domains_aws_credentials_file: cannot read "/nonexistent/credentials"



=== TEST 9: a rate of zero
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_ses_rate 0;
--- must_die
--- error_log
sender_domains_ses_rate: invalid rate "0"



=== TEST 10: a refresh interval that is not a time
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_refresh_interval soon;
--- must_die
--- error_log
"sender_domains_refresh_interval" directive invalid value



=== TEST 11: a JWT secret file that is too short
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
--- config
    location /api/ {
        sender_domains_api;
        sender_domains_jwt_secret_file $TEST_NGINX_SERVER_ROOT/html/short;
    }
--- user_files
>>> short
tiny
--- must_die
--- error_log
sender_domains_jwt_secret_file: "



=== TEST 12: a duplicate sender_domains_db
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/t.mdb;
--- must_die
--- error_log
"sender_domains_db" directive is duplicate



=== TEST 13: sender_domains_api takes no arguments
--- http_config
    sender_domains_db $TEST_NGINX_SERVER_ROOT/logs/s.mdb;
--- config
    location /api/ { sender_domains_api on; }
--- must_die
--- error_log
invalid number of arguments in "sender_domains_api" directive
