#!/usr/bin/env bash
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
# Faithfulness test for ses-sim: drive it with the real AWS CLI (botocore signs,
# serializes and parses exactly as against AWS), plus an independent stdlib-only
# SigV4 client shaped like the nginx module's C client.
#
#   bash t/ses-sim/test_awscli.sh        # last line: "N passed, N failed"; exit 1 on failure
#
# Needs only Debian's awscli and python3-botocore (/usr/bin/aws, /usr/bin/python3).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
AWS=/usr/bin/aws
SIM="$HERE/ses_sim.py"
TMP=$(mktemp -d)
PASS=0
FAIL=0
SIM_PID=""

stop_sim() {
    if [ -n "$SIM_PID" ]; then
        kill -TERM "$SIM_PID" 2>/dev/null
        wait "$SIM_PID" 2>/dev/null
        SIM_PID=""
    fi
}
cleanup() { stop_sim; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
ko() {
    FAIL=$((FAIL + 1)); echo "FAIL - $1"
    [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /' | head -20
    return 0
}

# start_sim [extra args...]: start ses-sim on a free port, set PORT and EP.
start_sim() {
    "$PY" "$SIM" --port 0 "$@" >"$TMP/sim.out" 2>"$TMP/sim.err" &
    SIM_PID=$!
    PORT=""
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's#^ses-sim listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$#\1#p' "$TMP/sim.out")
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    if [ -z "$PORT" ]; then
        echo "ses-sim did not start:"; cat "$TMP/sim.err"
        echo "0 passed, 1 failed"; exit 1
    fi
    EP="http://127.0.0.1:$PORT"
}

# ctl METHOD PATH [JSON]: call the control API; body on stdout, HTTP status in $TMP/ctl.status
ctl() {
    "$PY" - "$EP" "$1" "$2" "${3:-}" "$TMP/ctl.status" <<'EOF'
import sys, urllib.request, urllib.error
ep, method, path, body, status_file = sys.argv[1:6]
req = urllib.request.Request(ep + path, method=method, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        status, data = r.status, r.read()
except urllib.error.HTTPError as e:
    status, data = e.code, e.read()
open(status_file, "w").write(str(status))
sys.stdout.write(data.decode())
EOF
}
ctl_status() { cat "$TMP/ctl.status"; }

# jtrue FILE EXPR: python expression over d (the JSON in FILE) is true
jtrue() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null
}

# awsrun ARGS...: run the CLI against the simulator; stdout in $TMP/out, stderr in $TMP/err
awsrun() {
    AWS_ACCESS_KEY_ID="${AKID:-AKIDSIMULATOR}" AWS_SECRET_ACCESS_KEY="${SECRET:-sim-secret-key}" \
    AWS_SESSION_TOKEN="${TOKEN:-}" AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_MAX_ATTEMPTS="${ATTEMPTS:-1}" \
    AWS_RETRY_MODE=standard \
        "$AWS" --endpoint-url "$EP" --cli-connect-timeout 5 --cli-read-timeout "${READ_TIMEOUT:-20}" \
        --output json "$@" >"$TMP/out" 2>"$TMP/err"
}

# expect_ok NAME EXPR ARGS...: the call succeeds and EXPR holds over its JSON output
expect_ok() {
    local name=$1 expr=$2; shift 2
    if ! awsrun "$@"; then ko "$name" "$(cat "$TMP/err")"; return; fi
    if [ "$expr" = "-" ]; then ok "$name"; return; fi
    if jtrue "$TMP/out" "$expr"; then ok "$name"; else ko "$name" "$(cat "$TMP/out")"; fi
}

# expect_err NAME CODE ARGS...: the call fails with "(CODE)" in the CLI's error message
expect_err() {
    local name=$1 code=$2; shift 2
    if awsrun "$@"; then ko "$name" "unexpected success: $(cat "$TMP/out")"; return; fi
    if grep -q "($code)" "$TMP/err"; then ok "$name"; else ko "$name" "$(cat "$TMP/err")"; fi
}

# expect_fail NAME REGEX ARGS...: the call fails and stderr matches REGEX (no error code)
expect_fail() {
    local name=$1 re=$2; shift 2
    if awsrun "$@"; then ko "$name" "unexpected success: $(cat "$TMP/out")"; return; fi
    if grep -Eqi "$re" "$TMP/err"; then ok "$name"; else ko "$name" "$(cat "$TMP/err")"; fi
}

# expect_ctl NAME STATUS METHOD PATH [JSON] [EXPR]
expect_ctl() {
    local name=$1 want=$2 method=$3 path=$4 body=${5:-} expr=${6:-}
    ctl "$method" "$path" "$body" >"$TMP/ctl.out"
    if [ "$(ctl_status)" != "$want" ]; then
        ko "$name" "HTTP $(ctl_status), want $want: $(cat "$TMP/ctl.out")"; return
    fi
    if [ -n "$expr" ] && ! jtrue "$TMP/ctl.out" "$expr"; then ko "$name" "$(cat "$TMP/ctl.out")"; return; fi
    ok "$name"
}

sesv2() { echo sesv2 "$@"; }

for tool in "$PY" "$AWS"; do
    if [ ! -x "$tool" ]; then
        echo "missing $tool: apt-get install python3-botocore awscli"
        echo "0 passed, 1 failed"; exit 1
    fi
done
if ! "$PY" -c 'import botocore' 2>/dev/null; then
    echo "python3-botocore missing: apt-get install python3-botocore"
    echo "0 passed, 1 failed"; exit 1
fi

# ---------------------------------------------------------------------------------------
echo "# botocore reproduces the derived SES SigV4 vectors; official suite verifies"
SUITE="$HERE/../unit/sigv4-testsuite"
if "$PY" "$SIM" --self-check --sigv4-suite "$SUITE" >"$TMP/selfcheck" 2>&1 \
        && tail -1 "$TMP/selfcheck" | grep -q ", 0 failed"; then
    ok "self-check: $(tail -1 "$TMP/selfcheck")"
else
    ko "self-check" "$(grep -v '^ok' "$TMP/selfcheck")"
fi

start_sim
expect_ctl "health" 200 GET /_sim/health "" 'd == {"ok": True}'

# ---------------------------------------------------------------------------------------
echo "# domain identity lifecycle"
expect_ok "create domain: DOMAIN, PENDING, 3 tokens, not verified" \
    'd["IdentityType"] == "DOMAIN" and d["VerifiedForSendingStatus"] is False and d["DkimAttributes"]["Status"] == "PENDING" and len(d["DkimAttributes"]["Tokens"]) == 3 and d["DkimAttributes"]["SigningEnabled"] is True' \
    $(sesv2 create-email-identity --email-identity example.com)
TOKENS=$("$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["DkimAttributes"]["Tokens"]))' "$TMP/out")
expect_err "duplicate create -> AlreadyExistsException" AlreadyExistsException \
    $(sesv2 create-email-identity --email-identity example.com)
if grep -q "Email identity example.com already exist." "$TMP/err"; then ok "duplicate message as live SES"; else ko "duplicate message" "$(cat "$TMP/err")"; fi
expect_err "domains compare case-insensitively" AlreadyExistsException \
    $(sesv2 create-email-identity --email-identity EXAMPLE.Com)
expect_ok "get: full shape, MailFromAttributes only BehaviorOnMxFailure" \
    'd["VerificationStatus"] == "PENDING" and d["MailFromAttributes"] == {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"} and d["Policies"] == {} and d["Tags"] == [] and d["FeedbackForwardingStatus"] is True' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ok "put mail-from" "-" \
    $(sesv2 put-email-identity-mail-from-attributes --email-identity example.com --mail-from-domain bounce.example.com --behavior-on-mx-failure USE_DEFAULT_VALUE)
expect_ok "get after mail-from: PENDING" \
    'd["MailFromAttributes"] == {"MailFromDomain": "bounce.example.com", "MailFromDomainStatus": "PENDING", "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"}' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_err "mail-from outside the domain -> BadRequestException" BadRequestException \
    $(sesv2 put-email-identity-mail-from-attributes --email-identity example.com --mail-from-domain bounce.example.org)
expect_err "mail-from on unknown identity -> NotFoundException" NotFoundException \
    $(sesv2 put-email-identity-mail-from-attributes --email-identity nope.example --mail-from-domain m.nope.example)

expect_ctl "publish expected DNS records" 200 POST /_sim/dns/publish '{"identity":"example.com"}' \
    'len(d["published"]) == 5'
expect_ok "after publish: DKIM, verification and MAIL FROM SUCCESS" \
    'd["DkimAttributes"]["Status"] == "SUCCESS" and d["VerificationStatus"] == "SUCCESS" and d["VerifiedForSendingStatus"] is True and d["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"' \
    $(sesv2 get-email-identity --email-identity example.com)
# The zone holds exactly {token}._domainkey.example.com -> {token}.dkim.amazonses.com
expect_ctl "zone has the DKIM CNAMEs SES documents" 200 GET /_sim/dns "" \
    "sorted(r['name'] for r in d['records'] if r['type']=='CNAME') == sorted(t + '._domainkey.example.com' for t in '$TOKENS'.split()) and all(r['value'] == r['name'].split('.')[0] + '.dkim.amazonses.com' for r in d['records'] if r['type']=='CNAME')"

# ---------------------------------------------------------------------------------------
echo "# email identities, path encoding, list pagination, delete"
expect_ok "create user+tag@example.com" \
    'd == {"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": False}' \
    $(sesv2 create-email-identity --email-identity user+tag@example.com)
expect_ok "get user+tag@example.com (percent-encoded path)" \
    'd["IdentityType"] == "EMAIL_ADDRESS" and d["VerificationStatus"] == "PENDING" and d["VerificationInfo"] == {} if "VerificationInfo" in d else d["VerificationStatus"] == "PENDING"' \
    $(sesv2 get-email-identity --email-identity user+tag@example.com)
expect_ctl "wire path was /v2/email/identities/user%2Btag%40example.com" 200 GET "/_sim/calls?action=GetEmailIdentity" "" \
    'd[-1]["path"] == "/v2/email/identities/user%2Btag%40example.com" and d[-1]["identity"] == "user+tag@example.com" and d[-1]["status"] == 200'
expect_err "address local part is case-sensitive" NotFoundException \
    $(sesv2 get-email-identity --email-identity USER+tag@example.com)
expect_ok "address domain part is case-insensitive" 'd["IdentityType"] == "EMAIL_ADDRESS"' \
    $(sesv2 get-email-identity --email-identity user+tag@EXAMPLE.com)
expect_ok "create z@example.net" - $(sesv2 create-email-identity --email-identity z@example.net)

expect_ok "list --page-size 1: one item and a NextToken" \
    'len(d["EmailIdentities"]) == 1 and d.get("NextToken")' \
    $(sesv2 list-email-identities --page-size 1 --no-paginate)
NAMES=""
NT=""
PAGES=0
while :; do
    if [ -z "$NT" ]; then awsrun sesv2 list-email-identities --page-size 1 --no-paginate
    else awsrun sesv2 list-email-identities --page-size 1 --no-paginate --next-token "$NT"; fi || break
    PAGES=$((PAGES + 1))
    NAMES="$NAMES $("$PY" -c 'import json,sys; print(" ".join(i["IdentityName"] for i in json.load(open(sys.argv[1]))["EmailIdentities"]))' "$TMP/out")"
    NT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("NextToken",""))' "$TMP/out")
    [ -z "$NT" ] || [ $PAGES -gt 10 ] && break
done
if [ "$(echo $NAMES)" = "example.com user+tag@example.com z@example.net" ] && [ $PAGES = 3 ]; then
    ok "NextToken walk visits every identity once, in stable order"
else
    ko "NextToken walk" "pages=$PAGES names=$NAMES"
fi
expect_ok "list item shape" \
    'all(set(i) >= {"IdentityType", "IdentityName", "SendingEnabled"} for i in d["EmailIdentities"]) and [i["SendingEnabled"] for i in d["EmailIdentities"]] == [True, False, False]' \
    $(sesv2 list-email-identities)
expect_err "list --page-size 1001 -> BadRequestException" BadRequestException \
    $(sesv2 list-email-identities --page-size 1001)
expect_err "list with a forged NextToken -> BadRequestException" BadRequestException \
    $(sesv2 list-email-identities --next-token garbage-token)

expect_ok "delete user+tag@example.com" - $(sesv2 delete-email-identity --email-identity user+tag@example.com)
expect_err "get deleted -> NotFoundException" NotFoundException \
    $(sesv2 get-email-identity --email-identity user+tag@example.com)
expect_err "delete unknown -> NotFoundException" NotFoundException \
    $(sesv2 delete-email-identity --email-identity user+tag@example.com)
expect_err "dkim attributes on unknown domain -> BadRequestException (as live SES)" BadRequestException \
    $(sesv2 put-email-identity-dkim-attributes --email-identity nope.example --signing-enabled)

# ---------------------------------------------------------------------------------------
echo "# model validation"
expect_err "enum outside the model -> BadRequestException" BadRequestException \
    $(sesv2 create-email-identity --email-identity v.example --dkim-signing-attributes NextSigningKeyLength=RSA_4096_BIT)
if grep -q "NextSigningKeyLength" "$TMP/err"; then ok "validation message names the field"; else ko "validation message names the field" "$(cat "$TMP/err")"; fi
expect_err "invalid domain name -> BadRequestException" BadRequestException \
    $(sesv2 create-email-identity --email-identity 'bad_domain!')

# ---------------------------------------------------------------------------------------
echo "# SESv1 VerifyEmailIdentity and link clicks"
expect_ok "ses verify-email-identity a@b.com" - ses verify-email-identity --email-address a@b.com
expect_ok "v1 created a PENDING address identity" \
    'd["IdentityType"] == "EMAIL_ADDRESS" and d["VerificationStatus"] == "PENDING"' \
    $(sesv2 get-email-identity --email-identity a@b.com)
expect_ok "verify-email-identity again is idempotent" - ses verify-email-identity --email-address a@b.com
expect_ctl "second send recorded" 200 GET /_sim/identities "" \
    '[i for i in d if i["identity"] == "a@b.com"][0]["verification_email_count"] == 2'
expect_err "v1 invalid address -> InvalidParameterValue" InvalidParameterValue \
    ses verify-email-identity --email-address not-an-address
expect_ctl "click the link -> 200" 200 POST /_sim/click '{"identity":"a@b.com"}'
expect_ok "clicked address is SUCCESS" \
    'd["VerificationStatus"] == "SUCCESS" and d["VerifiedForSendingStatus"] is True' \
    $(sesv2 get-email-identity --email-identity a@b.com)
expect_ctl "click unknown -> 404" 404 POST /_sim/click '{"identity":"who@b.com"}'

# ---------------------------------------------------------------------------------------
echo "# authentication"
SECRET=wrong expect_err "wrong secret (v2) -> InvalidSignatureException" InvalidSignatureException \
    $(sesv2 get-email-identity --email-identity example.com)
if grep -q "The request signature we calculated does not match" "$TMP/err"; then ok "v2 signature message as SES"; else ko "v2 signature message" "$(cat "$TMP/err")"; fi
SECRET=wrong expect_err "wrong secret (v1) -> SignatureDoesNotMatch" SignatureDoesNotMatch \
    ses verify-email-identity --email-address a@b.com
AKID=AKIDUNKNOWN expect_err "unknown access key (v2) -> UnrecognizedClientException" UnrecognizedClientException \
    $(sesv2 get-email-identity --email-identity example.com)
AKID=AKIDUNKNOWN expect_err "unknown access key (v1) -> InvalidClientTokenId" InvalidClientTokenId \
    ses verify-email-identity --email-address a@b.com
expect_ctl "add session credentials" 200 POST /_sim/credentials \
    '{"access_key":"ASIASESSION","secret_key":"session-secret","session_token":"tok-123"}'
AKID=ASIASESSION SECRET=session-secret TOKEN=tok-123 expect_ok "session token accepted" - \
    $(sesv2 get-email-identity --email-identity example.com)
AKID=ASIASESSION SECRET=session-secret TOKEN=tok-999 expect_err "wrong session token -> UnrecognizedClientException" UnrecognizedClientException \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "SES clock 1 h ahead of the client" 200 POST /_sim/clock '{"skew":3600}'
expect_err "skew > 15 min -> InvalidSignatureException" InvalidSignatureException \
    $(sesv2 get-email-identity --email-identity example.com)
if grep -q "Signature expired" "$TMP/err"; then ok "skew message: Signature expired"; else ko "skew message" "$(cat "$TMP/err")"; fi
expect_ctl "SES clock back" 200 POST /_sim/clock '{"skew":0}'

# ---------------------------------------------------------------------------------------
echo "# fault injection"
expect_ctl "inject 500 for GetEmailIdentity" 200 POST /_sim/faults '{"count":1,"kind":"500","match":"GetEmailIdentity"}'
expect_err "500 -> InternalServiceErrorException" InternalServiceErrorException \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ok "fault consumed: next call succeeds" - $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "inject 429" 200 POST /_sim/faults '{"kind":"429","match":"ListEmailIdentities"}'
expect_err "429 -> TooManyRequestsException" TooManyRequestsException $(sesv2 list-email-identities)
if grep -q "Maximum sending rate exceeded." "$TMP/err"; then ok "429 message as SES"; else ko "429 message" "$(cat "$TMP/err")"; fi
expect_ctl "inject 429 for v1" 200 POST /_sim/faults '{"kind":"429","match":"VerifyEmailIdentity"}'
expect_err "v1 429 -> Throttling" Throttling ses verify-email-identity --email-address a@b.com
ctl DELETE /_sim/calls >/dev/null
expect_ctl "inject one 503" 200 POST /_sim/faults '{"kind":"503","match":"GetEmailIdentity"}'
ATTEMPTS=3 expect_ok "botocore retries a 503 and succeeds" 'd["IdentityType"] == "DOMAIN"' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "call log shows 503 then 200" 200 GET /_sim/calls "" \
    '[(c["status"], c["fault"]) for c in d] == [(503, "503"), (200, None)]'
expect_ctl "inject garbage" 200 POST /_sim/faults '{"kind":"garbage","match":"GET /v2/email/identities/example.com"}'
# botocore swallows a non-JSON 200 body (it parses it as no fields); the C client must not.
if awsrun sesv2 get-email-identity --email-identity example.com && ! grep -q IdentityType "$TMP/out"; then
    ok "garbage 200 body reaches the client (botocore: no fields parsed)"
else
    ko "garbage 200 body" "$(cat "$TMP/out" "$TMP/err")"
fi
expect_ctl "garbage was answered as HTTP 200 text/html" 200 GET "/_sim/calls?action=GetEmailIdentity" "" \
    'd[-1]["fault"] == "garbage" and d[-1]["status"] == 200'
expect_ctl "inject drop" 200 POST /_sim/faults '{"kind":"drop"}'
expect_fail "dropped connection -> client connection error" "connection|closed|aborted|endpoint|remote" \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "inject timeout (3 s hold)" 200 POST /_sim/faults '{"kind":"timeout","delay":3}'
START=$(date +%s)
READ_TIMEOUT=1 expect_fail "held connection -> client read timeout" "timeout|timed out" \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "inject slow (1 s)" 200 POST /_sim/faults '{"kind":"slow","delay":1}'
expect_ok "slow answer still correct" 'd["IdentityType"] == "DOMAIN"' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "inject 500 after the create took effect" 200 POST /_sim/faults \
    '{"kind":"500","match":"CreateEmailIdentity","after":true}'
ATTEMPTS=2 expect_err "lost create response: retry sees AlreadyExistsException" AlreadyExistsException \
    $(sesv2 create-email-identity --email-identity lost.example)
expect_ctl "fault queue empty" 200 GET /_sim/faults "" 'd["faults"] == []'

# ---------------------------------------------------------------------------------------
echo "# time: 72 h DNS window, 24 h links, lost records"
expect_ok "create late.example" - $(sesv2 create-email-identity --email-identity late.example)
expect_ok "create x@late.example" - $(sesv2 create-email-identity --email-identity x@late.example)
expect_ctl "unpublish example.com MAIL FROM records" 200 POST /_sim/dns/unpublish \
    '{"identity":"example.com","dkim":false}' 'len(d["unpublished"]) == 2'
expect_ok "lost MX -> MAIL FROM TEMPORARY_FAILURE, DKIM still SUCCESS" \
    'd["MailFromAttributes"]["MailFromDomainStatus"] == "TEMPORARY_FAILURE" and d["DkimAttributes"]["Status"] == "SUCCESS"' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "advance the calendar 73 h" 200 POST /_sim/clock '{"advance":262800}'
expect_ok "signed requests still accepted after moving the calendar" - \
    $(sesv2 get-email-identity --email-identity late.example)
expect_ok "72 h without records -> DKIM FAILED" \
    'd["DkimAttributes"]["Status"] == "FAILED" and d["VerificationStatus"] == "FAILED" and d["VerifiedForSendingStatus"] is False' \
    $(sesv2 get-email-identity --email-identity late.example)
expect_ok "72 h after losing the MX -> MAIL FROM FAILED" \
    'd["MailFromAttributes"]["MailFromDomainStatus"] == "FAILED"' \
    $(sesv2 get-email-identity --email-identity example.com)
expect_ctl "publishing after the window" 200 POST /_sim/dns/publish '{"identity":"late.example"}'
expect_ok "... does not revive a FAILED identity" 'd["DkimAttributes"]["Status"] == "FAILED"' \
    $(sesv2 get-email-identity --email-identity late.example)
expect_ctl "click an expired link -> 410" 410 POST /_sim/click '{"identity":"x@late.example"}'
expect_ok "unclicked address after 24 h -> FAILED" 'd["VerificationStatus"] == "FAILED"' \
    $(sesv2 get-email-identity --email-identity x@late.example)
expect_ok "resend (v1)" - ses verify-email-identity --email-address x@late.example
expect_ok "resend restarts the link: PENDING" 'd["VerificationStatus"] == "PENDING"' \
    $(sesv2 get-email-identity --email-identity x@late.example)
expect_ctl "click the new link -> 200" 200 POST /_sim/click '{"identity":"x@late.example"}'

# ---------------------------------------------------------------------------------------
echo "# control API extras"
expect_ctl "seed a verified domain with MAIL FROM" 200 POST /_sim/seed \
    '{"identity":"seeded.example","mail_from_domain":"mail.seeded.example","verified":true}' \
    'd["verification_status"] == "SUCCESS" and d["mail_from_status"] == "SUCCESS"'
expect_ok "seeded identity as SES reports it" \
    'd["VerifiedForSendingStatus"] is True and d["MailFromAttributes"]["MailFromDomainStatus"] == "SUCCESS"' \
    $(sesv2 get-email-identity --email-identity seeded.example)
expect_ctl "address on a verified domain can send" 200 GET "/_sim/can_send?from=anyone@seeded.example" "" \
    'd["can_send"] is True'
expect_ctl "force DKIM TEMPORARY_FAILURE" 200 POST /_sim/status \
    '{"identity":"seeded.example","dkim":"TEMPORARY_FAILURE"}'
expect_ok "forced status visible" 'd["DkimAttributes"]["Status"] == "TEMPORARY_FAILURE"' \
    $(sesv2 get-email-identity --email-identity seeded.example)
expect_ctl "reset" 200 POST /_sim/reset
expect_ok "reset clears identities" 'd["EmailIdentities"] == []' $(sesv2 list-email-identities)

# ---------------------------------------------------------------------------------------
echo "# C-client request shapes (independent stdlib signer, no botocore)"
"$PY" - "$EP" >"$TMP/raw" 2>&1 <<'EOF'
import hashlib, hmac, http.client, json, sys, time
from urllib.parse import quote, urlsplit
ep = urlsplit(sys.argv[1])
AK, SK, REGION = "AKIDSIMULATOR", "sim-secret-key", "us-east-1"
def h(k, m): return hmac.new(k, m.encode(), hashlib.sha256).digest()
def sign(method, path, query, body, headers, signed, double=True):
    amz = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    headers = dict(headers, **{"Host": "%s:%d" % (ep.hostname, ep.port), "X-Amz-Date": amz})
    lower = {k.lower(): v for k, v in headers.items()}
    cpath = quote(path, safe="/~") if double else path   # SES: URI-encode the wire path again
    creq = "\n".join([method, cpath, query,
                      "".join("%s:%s\n" % (n, lower[n].strip()) for n in signed),
                      ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/ses/aws4_request" % (amz[:8], REGION)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = h(h(h(h(("AWS4" + SK).encode(), amz[:8]), REGION), "ses"), "aws4_request")
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
                                % (AK, scope, ";".join(signed), sig))
    return headers
def call(method, path, query="", body=b"", headers=None, signed=("host", "x-amz-date"), **kw):
    hdrs = sign(method, path, query, body, headers or {}, list(signed), **kw)
    c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=10)
    c.request(method, path + ("?" + query if query else ""), body=body or None, headers=hdrs)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
res = []
def check(name, cond, info=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else "  " + str(info)[:300]))
JSONH = {"Content-Type": "application/json"}
body = json.dumps({"EmailIdentity": "acme.com"}).encode()
s, hd, d = call("POST", "/v2/email/identities", body=body,
                headers=dict(JSONH, **{"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()}),
                signed=("content-type", "host", "x-amz-content-sha256", "x-amz-date"))
check("C shape: create with x-amz-content-sha256 signed", s == 200, (s, d))
check("x-amzn-RequestId on success", bool(hd.get("x-amzn-requestid")), hd)
s, hd, d = call("POST", "/v2/email/identities", body=json.dumps({"EmailIdentity": "acme2.com"}).encode(),
                headers=JSONH, signed=("content-type", "host", "x-amz-date"))
check("C shape: create signing content-type;host;x-amz-date", s == 200, (s, d))
s, hd, d = call("GET", "/v2/email/identities/acme.com")
j = json.loads(d)
vi = j.get("VerificationInfo", {})
check("live fields the CLI's old model drops: SigningHostedZone, VerificationInfo",
      j["DkimAttributes"].get("SigningHostedZone") == "dkim.amazonses.com"
      and isinstance(vi.get("LastCheckedTimestamp"), int) and vi.get("ErrorType") == "TYPE_NOT_FOUND"
      and isinstance(j["DkimAttributes"].get("LastKeyGenerationTimestamp"), int), j)
s, hd, d = call("POST", "/v2/email/identities", body=json.dumps({"EmailIdentity": "user+tag@acme.com"}).encode(),
                headers=JSONH, signed=("content-type", "host", "x-amz-date"))
check("create address", s == 200, (s, d))
s, hd, d = call("GET", "/v2/email/identities/user%2Btag%40acme.com")
check("GET address, canonical URI double-encoded -> 200", s == 200, (s, d))
s, hd, d = call("GET", "/v2/email/identities/user%2Btag%40acme.com", double=False)
check("GET address, single-encoded canonical URI -> 403 InvalidSignatureException",
      s == 403 and hd.get("x-amzn-errortype") == "InvalidSignatureException", (s, hd, d))
s, hd, d = call("POST", "/v2/email/identities", body=b'{"EmailIdentity": "x.com", "Bogus": 1}',
                headers=JSONH, signed=("content-type", "host", "x-amz-date"))
check("unknown body member -> 400 BadRequestException naming it",
      s == 400 and hd.get("x-amzn-errortype") == "BadRequestException" and b"Bogus" in d, (s, d))
s, hd, d = call("POST", "/v2/email/identities", body=b"{}", headers=JSONH,
                signed=("content-type", "host", "x-amz-date"))
check("missing EmailIdentity -> 400 naming it", s == 400 and b"EmailIdentity" in d, (s, d))
s, hd, d = call("PUT", "/v2/email/identities/acme.com/mail-from", body=b"{}", headers=JSONH,
                signed=("content-type", "host", "x-amz-date"))
check("put mail-from with {} (botocore's empty body) -> 200", s == 200, (s, d))
s, hd, d = call("GET", "/v2/email/identities/nope.example")
check("404 JSON error with x-amzn-ErrorType and message",
      s == 404 and hd.get("x-amzn-errortype") == "NotFoundException"
      and json.loads(d).get("message") and hd.get("x-amzn-requestid"), (s, hd, d))
s, hd, d = call("GET", "/v2/email/identities", query="NextToken=abc%2F%2B%3D&PageSize=100")
check("encoded query re-canonicalised like AWS (bad token -> 400, not 403)", s == 400
      and hd.get("x-amzn-errortype") == "BadRequestException", (s, d))
c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=10)
c.request("GET", "/v2/email/identities/acme.com")
r = c.getresponse(); r.read()
check("unsigned -> 403 MissingAuthenticationTokenException",
      r.status == 403 and r.getheader("x-amzn-ErrorType") == "MissingAuthenticationTokenException")
form = b"Action=VerifyEmailIdentity&Version=2010-12-01&EmailAddress=ops%40acme.com"
s, hd, d = call("POST", "/", body=form,
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                signed=("content-type", "host", "x-amz-date"))
check("v1 VerifyEmailIdentity XML", s == 200 and b"<VerifyEmailIdentityResult/>" in d
      and b'xmlns="http://ses.amazonaws.com/doc/2010-12-01/"' in d, (s, d))
EOF
while IFS= read -r line; do
    case "$line" in
        "ok   "*) ok "${line#ok   }" ;;
        "FAIL "*) ko "${line#FAIL }" ;;
        *) ko "raw client: $line" ;;
    esac
done <"$TMP/raw"

# ---------------------------------------------------------------------------------------
echo "# persistence and clean shutdown"
stop_sim
STATE="$TMP/state.json"
start_sim --state-file "$STATE" --verify-delay 30
expect_ok "create in a persisted simulator" - $(sesv2 create-email-identity --email-identity keep.example)
expect_ctl "publish (verify delay 30 s)" 200 POST /_sim/dns/publish '{"identity":"keep.example"}'
expect_ok "still PENDING within the verify delay" 'd["DkimAttributes"]["Status"] == "PENDING"' \
    $(sesv2 get-email-identity --email-identity keep.example)
kill -TERM "$SIM_PID"
if wait "$SIM_PID"; then ok "SIGTERM: clean exit 0"; else ko "SIGTERM exit status"; fi
SIM_PID=""
start_sim --state-file "$STATE" --verify-delay 30
expect_ctl "advance 31 s" 200 POST /_sim/clock '{"advance":31}'
expect_ok "identity and zone survived a restart; verified after the delay" \
    'd["DkimAttributes"]["Status"] == "SUCCESS"' \
    $(sesv2 get-email-identity --email-identity keep.example)
stop_sim

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
