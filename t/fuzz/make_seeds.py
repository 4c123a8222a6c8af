#!/usr/bin/env python3
# Copyright (C) 2026 Custom Sender Domains for nginx authors; see LICENSE.
"""
Writes the hand-made seed inputs of each fuzz target into
t/fuzz/corpus/<name>/seed-*.  Run it again after changing a target's
input layout; inputs that the fuzzer found (and `run.sh --merge` kept)
live next to the seeds under their SHA-1 names and are not touched.

The input layouts are described at the top of each t/fuzz/fuzz_<name>.c.
SES bodies are live AWS samples and bodies shaped after the SESv2 model,
moto and floci; tokens from t/unit/test_jwt.c.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def b(s):
    return s.encode("utf-8") if isinstance(s, str) else s


# ---- identity: [split] [a] [b] -------------------------------------------

def identity():
    pairs = [
        ("domain", "acme.com", "mail.acme.com"),
        ("domain-messy", "  ACME.com. ", "reports@acme.com"),
        ("email", "Reports@ACME.com", "acme.com"),
        ("email-tag", "user+tag@example.com", "example.com"),
        ("label", "pmail", "acme.com"),
        ("label-upper", "PMail", "sub.acme.co.uk"),
        ("label-hyphen", "-bad", "acme.com"),
        ("url", "https://acme.com/x", "acme.com"),
        ("wildcard", "*.acme.com", "acme.com"),
        ("ip", "192.168.0.1", "[::1]"),
        ("ipv6", "2001:db8::1", "acme.com"),
        ("idn", "xn--bcher-kva.example", "b\u00fccher.example"),
        ("name", "Acme Reports", "R\u00e9sum\u00e9 \u65e5\u672c"),
        ("name-crlf", "Acme\r\nBcc: x@evil.com", "acme.com"),
        ("name-bidi", "Acme \u202eevil", "a\u2028b"),
        ("name-nel", "Acme\u0085x", "\u00a0Acme\u00a0"),
        ("numeric-tld", "acme.123", "1.2.3.4"),
        ("one-label", "localhost", "reports@localhost"),
        ("quoted", "\"a b\"@acme.com", "a..b@acme.com"),
        ("multi-at", "a@b@acme.com", "Name <a@acme.com>"),
        ("literal", "a@[127.0.0.1]", "a@acme.com."),
        ("long-label", "a" * 63 + ".com", "a" * 64 + ".com"),
        ("long-domain", ".".join(["abcdefghi"] * 25) + ".com",
         "x@" + ".".join(["abcdefghi"] * 25) + ".com"),
        ("long-local", "l" * 64 + "@acme.com", "l" * 65 + "@acme.com"),
        ("tree", "acme.com", "x@mail.acme.com"),
        ("tree-sibling", "acme.com", "bacme.com"),
        ("emails-case", "Reports@acme.com", "reports@ACME.com"),
        ("nul", "acme\x00.com", "a\x00@acme.com"),
        ("overlong-utf8", b"\xc0\xafacme", b"\xed\xa0\x80x"),
    ]
    for name, a, bb in pairs:
        a, bb = b(a), b(bb)
        write("identity", name, bytes([len(a) % 256]) + a[:255] + bb)


# ---- api_body: a request body ----------------------------------------------

def api_body():
    bodies = {
        "add-domain": {"identity": "acme.com", "type": "domain",
                       "mail_from_subdomain": "pmail",
                       "sender_name": "Acme Reports"},
        "add-domain-min": {"identity": "ACME.com."},
        "add-email": {"identity": "reports@acme.com", "type": "email",
                      "sender_name": "R\u00e9sum\u00e9 Bot"},
        "add-email-implicit": {"identity": "Reports@Acme.COM"},
        "add-email-label": {"identity": "r@acme.com",
                            "mail_from_subdomain": "x"},
        "add-bad-type": {"identity": "acme.com", "type": "Domain"},
        "add-mismatch": {"identity": "r@acme.com", "type": "domain"},
        "add-nulls": {"identity": "acme.com", "type": None,
                      "mail_from_subdomain": None, "sender_name": None},
        "add-numbers": {"identity": 123, "sender_name": True},
        "add-long-label": {"identity": "a.acme.com",
                           "mail_from_subdomain": "m" * 63},
        "add-injection": {"identity": "acme.com",
                          "sender_name": "Acme\r\nBcc: victim@x.com"},
        "patch": {"sender_name": "Acme Reports"},
        "patch-empty": {"sender_name": "  "},
        "patch-other": {"sender_name": "a", "kind": "legacy"},
        "patch-long": {"sender_name": "\u00e9" * 101},
        "legacy": [{"address": "billing@acme.com",
                    "sender_name": "Acme Billing"},
                   {"address": "Reports@acme.com", "sender_name": None},
                   {"address": "x@acme.com"}],
        "legacy-bad": [{"address": "not-an-address"}, 5],
        "legacy-empty": [],
    }
    for name, v in bodies.items():
        write("api_body", name, json.dumps(v, ensure_ascii=False))
    write("api_body", "dup-keys",
          '{"identity":"acme.com","identity":"evil.com"}')
    write("api_body", "escapes",
          '{"identity":"acme\\u002ecom","sender_name":"\\ud83d\\ude00 A"}')
    write("api_body", "nul-escape", '{"sender_name":"a\\u0000b"}')
    write("api_body", "deep", "[" * 64 + "]" * 64)
    write("api_body", "not-json", "identity=acme.com")


# ---- from: [mode] [From value] -------------------------------------------

def from_():
    values = [
        "Acme Reports <reports@acme.com>",
        "reports@acme.com",
        "<reports@acme.com>",
        "\"Acme, Inc. \\\"Reports\\\"\" <reports@acme.com>",
        "R\u00e9sum\u00e9 \u65e5\u672c <r@acme.com>",
        "  Acme    Reports   <Reports@ACME.com>  ",
        "a@acme.com, b@acme.com",
        "Group: a@acme.com;",
        "(comment) a@acme.com",
        "Acme <a@acme.com> (c)",
        "=?UTF-8?B?w6k=?= <a@acme.com>",
        "x\r\nBcc: y <a@acme.com>",
        "\"unterminated <a@acme.com>",
        "Acme <<a@acme.com>>",
        "Acme <@route:a@acme.com>",
        "\"\\\\\" <a@acme.com>",
        "Acme.Inc <a@acme.com>",
        "\u00e9" * 100 + " <a@acme.com>",
        "A" * 400 + " <a@acme.com>",
    ]
    for i, v in enumerate(values):
        write("from", "%02d" % i, bytes([i % 2]) + b(v))


# ---- ses_classify: [status:2] [flags] [type len] [type] [body] ------------

STATUS_INDEX = {200: 0, 201: 1, 204: 2, 400: 3, 401: 4, 403: 5, 404: 6,
                409: 7, 429: 8, 500: 9, 502: 10, 503: 11, 504: 12}


def status(code):
    return bytes([0, STATUS_INDEX[code]])


def ses_classify():
    cases = [
        ("ok-empty", 200, 1, None, "{}"),
        ("ok-create", 200, 1, None,
         '{"IdentityType":"EMAIL_ADDRESS","VerifiedForSendingStatus":false}'),
        ("ok-not-object", 200, 1, None, "[]"),
        ("ok-empty-body", 200, 1, None, ""),
        ("already-exists", 400, 0, "AlreadyExistsException",
         '{"message":"Email identity example.com already exist."}'),
        ("not-found", 404, 0, "NotFoundException",
         '{"message":"Identity X does not exist."}'),
        ("throttled", 429, 0, "TooManyRequestsException",
         '{"message":"Maximum sending rate exceeded."}'),
        ("type-suffix", 400, 0,
         "BadRequestException:http://internal.amazon.com/coral/com.amazon",
         '{"message":"Domain X is not verified for DKIM signing."}'),
        ("type-namespace", 400, 0, "aws.protocols#LimitExceededException",
         '{"Message":"too many"}'),
        ("body-type", 500, 2, None,
         '{"__type":"com.amazon#InternalServiceErrorException",'
         '"message":"oops"}'),
        ("body-code", 400, 2, None, '{"code":"ValidationException"}'),
        ("null-message", 400, 0, "BadRequestException", '{"message":null}'),
        ("sigv4-message", 403, 0, "InvalidSignatureException",
         '{"message":"The request signature we calculated does not match '
         'the signature you provided.\\n\\nThe Canonical String for this '
         'request should have been\\n\'GET\\n/v2/email/identities\\n\'"}'),
        ("ctl-message", 400, 2, None,
         '{"message":"a\\u0001b\\u007f\\u0085c\\u2028d\\t e  "}'),
        ("bad-utf8", 400, 2, None, b'{"message":"\xff\xfe"}'),
        ("concurrent", 500, 0, "ConcurrentModificationException", "{}"),
        ("html-502", 502, 2, None, "<html><body>Bad Gateway</body></html>"),
        ("untyped-404", 404, 2, None, ""),
    ]
    for name, code, flags, typ, body in cases:
        t = b(typ or "")
        write("ses_classify", name, status(code) + bytes([flags, len(t)])
              + t + b(body))


def ses_xml():
    ok = ('<VerifyEmailIdentityResponse xmlns="http://ses.amazonaws.com/doc/'
          '2010-12-01/"><VerifyEmailIdentityResult/><ResponseMetadata>'
          '<RequestId>47e0ef1a-9bf2-11e1-9279-0100e8cf109a</RequestId>'
          '</ResponseMetadata></VerifyEmailIdentityResponse>')
    err = ('<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
           '<Error><Type>Sender</Type><Code>Throttling</Code><Message>Maximum '
           'sending rate exceeded.</Message></Error><RequestId>x</RequestId>'
           '</ErrorResponse>')
    cases = [
        ("ok", 200, ok),
        ("ok-prolog", 200, '\ufeff<?xml version="1.0"?>\n<!-- a > b -->'
         '<!DOCTYPE x>' + ok.replace("VerifyEmailIdentityResponse",
                                     "ses:VerifyEmailIdentityResponse")),
        ("throttling", 400, err),
        ("invalid-param", 400, err.replace("Throttling",
                                           "InvalidParameterValue")
         .replace("Maximum sending rate exceeded.",
                  "Invalid email address&lt;STUB&gt;.")),
        ("entities", 400, err.replace("Maximum sending rate exceeded.",
                                      "&#x41;&#66;&amp;&quot;&apos;&#0;"
                                      "&#xD800;&#x110000;&bogus;")),
        ("cdata", 403, err.replace("Throttling", "InvalidClientTokenId")
         .replace("Maximum sending rate exceeded.",
                  "<![CDATA[a <b> ]]> tail <![CDATA[unterminated")),
        ("error-on-200", 200, err),
        ("garbage-500", 500, "Internal Server Error"),
        ("self-closing", 400, "<ErrorResponse><Error><Code/><Message/>"
         "</Error></ErrorResponse>"),
        ("unclosed", 400, "<ErrorResponse><Error><Code>Throttling"),
    ]
    for name, code, body in cases:
        write("ses_xml", name, status(code) + b(body))


IDENTITY_BODIES = {
    "email-create": {"IdentityType": "EMAIL_ADDRESS",
                     "VerifiedForSendingStatus": False},
    "email-get": {
        "IdentityType": "EMAIL_ADDRESS", "FeedbackForwardingStatus": True,
        "VerifiedForSendingStatus": False,
        "DkimAttributes": {"SigningEnabled": False, "Status": "NOT_STARTED",
                           "SigningAttributesOrigin": "AWS_SES",
                           "NextSigningKeyLength": "RSA_1024_BIT"},
        "MailFromAttributes": {"BehaviorOnMxFailure": "USE_DEFAULT_VALUE"},
        "Policies": {}, "Tags": [], "VerificationStatus": "PENDING",
        "VerificationInfo": {}},
    "domain-create": {
        "IdentityType": "DOMAIN", "VerifiedForSendingStatus": False,
        "DkimAttributes": {
            "SigningEnabled": True, "Status": "PENDING",
            "Tokens": ["abcdefghijklmnopqrstuvwxyz234567",
                       "bcdefghijklmnopqrstuvwxyz2345678",
                       "cdefghijklmnopqrstuvwxyz23456789"],
            "SigningAttributesOrigin": "AWS_SES",
            "NextSigningKeyLength": "RSA_2048_BIT",
            "CurrentSigningKeyLength": "RSA_2048_BIT",
            "LastKeyGenerationTimestamp": 1795687200}},
    "domain-verified": {
        "IdentityType": "DOMAIN", "FeedbackForwardingStatus": True,
        "VerifiedForSendingStatus": True,
        "DkimAttributes": {
            "SigningEnabled": True, "Status": "SUCCESS",
            "Tokens": ["tok1", "tok2", "tok3"],
            "SigningHostedZone": "dkim.af-south-1.amazonses.com",
            "SigningAttributesOrigin": "AWS_SES_AF_SOUTH_1"},
        "MailFromAttributes": {"MailFromDomain": "pmail.acme.com",
                               "MailFromDomainStatus": "SUCCESS",
                               "BehaviorOnMxFailure": "USE_DEFAULT_VALUE"},
        "VerificationStatus": "SUCCESS",
        "VerificationInfo": {"LastCheckedTimestamp": 1795687200.5,
                             "LastSuccessTimestamp": 1795600000,
                             "SOARecord": {"PrimaryNameServer": "ns",
                                           "AdminEmail": "a",
                                           "SerialNumber": 1}}},
    "domain-failed": {
        "IdentityType": "DOMAIN", "VerifiedForSendingStatus": False,
        "DkimAttributes": {"Status": "FAILED", "Tokens": ["t1", "t2", "t3"]},
        "MailFromAttributes": {"MailFromDomain": "pmail.acme.com",
                               "MailFromDomainStatus": "TEMPORARY_FAILURE",
                               "BehaviorOnMxFailure": "REJECT_MESSAGE"},
        "VerificationStatus": "FAILED",
        "VerificationInfo": {"ErrorType": "TYPE_NOT_FOUND",
                             "LastCheckedTimestamp": 1795687200}},
    "byodkim": {
        "IdentityType": "DOMAIN", "VerifiedForSendingStatus": True,
        "DkimAttributes": {"SigningEnabled": True, "Status": "SUCCESS",
                           "Tokens": ["selector1"],
                           "SigningAttributesOrigin": "EXTERNAL"}},
    "future-values": {
        "IdentityType": "SOMETHING_NEW", "VerificationStatus": "NEW",
        "DkimAttributes": {"Status": "NEW", "Tokens": None},
        "MailFromAttributes": {"MailFromDomainStatus": "NEW",
                               "BehaviorOnMxFailure": "NEW"},
        "VerificationInfo": {"ErrorType": "REPLICATION_PRIMARY_NOT_FOUND"}},
    "millis": {"IdentityType": "DOMAIN", "VerificationInfo": {
        "LastCheckedTimestamp": 1795687200000}},
    "bad-token": {"IdentityType": "DOMAIN", "DkimAttributes": {
        "Tokens": ["a.b", "x y", ""]}},
    "eleven-tokens": {"IdentityType": "DOMAIN", "DkimAttributes": {
        "Tokens": ["t%d" % i for i in range(11)]}},
    "bad-types": {"IdentityType": 1, "VerifiedForSendingStatus": "true"},
    "nulls": {"IdentityType": None, "DkimAttributes": None,
              "MailFromAttributes": None, "VerificationInfo": None},
    # Tags: the claim tag CreateEmailIdentity sets, read by an adoption
    "tags-claim": {
        "IdentityType": "DOMAIN", "VerifiedForSendingStatus": False,
        "DkimAttributes": {"Status": "PENDING", "Tokens": ["t1", "t2", "t3"]},
        "Tags": [{"Key": "sender-domains:claim",
                  "Value": "0123456789abcdef01234567"}]},
    "tags-mixed": {
        "IdentityType": "EMAIL_ADDRESS", "VerificationStatus": "PENDING",
        "Tags": [{"Key": "ws", "Value": "42"},
                 {"Key": "sender-domains:claim", "Value": "c1"},
                 {"Key": "sender-domains:claim", "Value": "c2"},
                 {"Key": "sender-domains:claim", "Value": "x" * 65},
                 {"Key": "Sender-Domains:Claim", "Value": "c3"}]},
    "tags-bad-value": {"Tags": [{"Key": "sender-domains:claim",
                                 "Value": "a\nb"}]},
    "tags-not-list": {"Tags": {"Key": "sender-domains:claim",
                               "Value": "c1"}},
    "tags-bad-member": {"Tags": [{"Key": "sender-domains:claim"},
                                 {"Key": 1, "Value": "x"}]},
    "tags-empty": {"IdentityType": "DOMAIN", "Tags": []},
}


def ses_identity():
    for i, (name, v) in enumerate(IDENTITY_BODIES.items()):
        write("ses_identity", name, bytes([i % 4]) + b(json.dumps(v)))
    write("ses_identity", "not-object", b"\x00[1,2]")
    write("ses_identity", "huge-number",
          b'\x00{"VerificationInfo":{"LastCheckedTimestamp":1e308}}')


def ses_list():
    pages = {
        "page": {"EmailIdentities": [
            {"IdentityType": "DOMAIN", "IdentityName": "acme.com",
             "SendingEnabled": True, "VerificationStatus": "SUCCESS"},
            {"IdentityType": "EMAIL_ADDRESS",
             "IdentityName": "Reports@acme.com", "SendingEnabled": False,
             "VerificationStatus": "PENDING"},
            {"IdentityType": "MANAGED_DOMAIN", "IdentityName": "m.acme.com",
             "SendingEnabled": False, "VerificationStatus": "FAILED"}],
            "NextToken": "abc/+="},
        "last": {"EmailIdentities": [
            {"IdentityType": "DOMAIN", "IdentityName": "acme.com"}]},
        "empty": {"EmailIdentities": []},
        "no-name": {"EmailIdentities": [{"IdentityType": "DOMAIN"}],
                    "NextToken": None},
        "bad-item": {"EmailIdentities": [{"IdentityName": 5}]},
        "ctl-name": {"EmailIdentities": [{"IdentityName": "a\nb"}]},
        "long-token": {"EmailIdentities": [], "NextToken": "T" * 300},
        "ctl-token": {"NextToken": "a\u0001b"},
    }
    for i, (name, v) in enumerate(pages.items()):
        write("ses_list", name, bytes([255 if i % 2 == 0 else 16, i % 3])
              + b(json.dumps(v)))


# ---- jwt: [mode] [bufsz] [token or payload] ------------------------------

SECRET = b"sandbox-secret-0123456789abcdef"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(header, payload, secret=SECRET, sig=None):
    h = b64u(b(header))
    p = b64u(b(payload))
    if sig is None:
        sig = b64u(hmac.new(secret, h + b"." + p, hashlib.sha256).digest())
    return h + b"." + p + b"." + sig


def jwt():
    hs = '{"alg":"HS256","typ":"JWT"}'
    valid = ('{"sub":"user-1","workspace":"ws_42","role":"admin",'
             '"plan":"professional","iat":1700000000,"exp":2000000000}')
    tokens = {
        "valid": token(hs, valid),
        "expired": token(hs, '{"sub":"user-1","exp":1700000000}'),
        "nbf": token(hs, '{"nbf":1800000000,"exp":2000000000}'),
        "none": token('{"alg":"none","typ":"JWT"}', '{"sub":"u"}', sig=b""),
        "hs512": token('{"alg":"HS512","typ":"JWT"}', '{"sub":"u"}'),
        "crit": token('{"alg":"HS256","crit":["exp"]}', '{"sub":"u"}'),
        "dup-alg": token('{"alg":"none","alg":"HS256"}', '{"sub":"u"}'),
        "wrong-secret": token(hs, valid, secret=b"other-secret"),
        "types": token(hs, '{"s":"text","i":42,"neg":-7,"r":1.5,'
                       '"rw":1700000000.0,"t":true,"f":false,"n":null,'
                       '"o":{"a":1},"a":[1,2],"ctl":"a\\r\\nb",'
                       '"utf":"R\\u00e9sum\\u00e9"}'),
        "padded": token(hs, valid) + b"=",
        "two-parts": b64u(b(hs)) + b"." + b64u(b(valid)),
    }
    for i, (name, t) in enumerate(tokens.items()):
        write("jwt", "token-" + name, bytes([0, 64]) + t)
    payloads = {
        "claims": valid,
        "exp-real": '{"exp":99.5,"nbf":-1e300,"iat":1e300}',
        "exp-string": '{"exp":"2000000000"}',
        "big-int": '{"workspace":9223372036854775807,"plan":-1.5e-7}',
        "ctl": '{"workspace":"ws\\n1","role":"\\u007f"}',
        "array": "[1,2,3]",
        "long-claim": '{"workspace":"' + "w" * 300 + '"}',
    }
    for i, (name, p) in enumerate(payloads.items()):
        write("jwt", "payload-" + name, bytes([1 | (i << 2 & 0x3c), 32])
              + b(p))
    write("jwt", "payload-tampered", bytes([3, 32]) + b(valid) + b"\x05")


# ---- credentials: [profile len] [err size] [profile] [file] ---------------

def credentials():
    files = {
        "default": ("", "[default]\naws_access_key_id = AKIDEXAMPLE\n"
                    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCY"
                    "EXAMPLEKEY\n"),
        "profile": ("ses", "[default]\naws_access_key_id=A\n"
                    "aws_secret_access_key=B\n\n[ ses ]\nregion = eu-west-1\n"
                    "AWS_ACCESS_KEY_ID: AKIASES\naws_secret_access_key: "
                    "secret/ses # comment\naws_session_token=FwoGZX"
                    "IvYXdzEJr//////////wEaDA ; c\n"),
        "crlf-bom": ("", "\ufeff# comment\r\n; other\r\n[default]\r\n"
                     "aws_access_key_id=AKID\r\naws_secret_access_key=SECRET"
                     "\r\naws_security_token=LEGACY\r\n"),
        "missing": ("default", "[default]\naws_access_key_id = AKID\n"),
        "empty-key": ("", "[default]\naws_access_key_id =\n"
                      "aws_secret_access_key = x\n"),
        "bad-value": ("", "[default]\naws_access_key_id = AK ID\n"
                      "aws_secret_access_key = s3cr3t-value-long\n"),
        "syntax": ("", "[default]\njust a line\n"),
        "bad-section": ("", "[default\naws_access_key_id=A\n"),
        "not-found": ("prod", "[default]\naws_access_key_id=A\n"
                      "aws_secret_access_key=B\n"),
        "too-long": ("", "[default]\naws_access_key_id=" + "A" * 129 +
                     "\naws_secret_access_key=B\n"),
        "twice": ("", "[default]\naws_access_key_id=A\n[default]\n"
                  "aws_access_key_id=C\naws_secret_access_key=D\n"
                  "aws_secret_access_key=E\n"),
        "ctl-profile": ("a\"b\x01" + "p" * 70, "[x]\n"),
    }
    for i, (name, (prof, f)) in enumerate(files.items()):
        p = b(prof)
        write("credentials", name, bytes([len(p), 255 if i % 3 else 24])
              + p + b(f))


# ---- time: [mode] [text] --------------------------------------------------

def time_():
    texts = [
        "2026-11-26T10:00:00Z", "1795687200", "0", "999999999999",
        "2026-11-26T10:00:00.123456+02:00", "2026-11-26t10:00:00z",
        "2026-11-26 10:00:00-05:30", "2024-02-29T23:59:60Z",
        "2025-02-29T00:00:00Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z", "0000-03-01T00:00:00+23:59",
        "2026-13-01T00:00:00Z", "2026-11-26T10:00:00", "-1",
        "1795687200.5", "2026-11-26T10:00:00.Z",
    ]
    for i, t in enumerate(texts):
        write("time", "%02d" % i, bytes([0]) + b(t))
    write("time", "format-raw", bytes([1]) + (1795687200).to_bytes(8, "little"))
    write("time", "format-negative", bytes([1])
          + (-62135596800).to_bytes(8, "little", signed=True))


# ---- sigv4: [mode] [path len] [query len] [token len] [hval len] ... ----

def sigv4():
    cases = [
        ("get-identity", 0, "/v2/email/identities/user%2Btag%40example.com",
         "", "abc/+=", "application/json", ""),
        ("create", 1, "/v2/email/identities", "", "",
         "application/json", '{"EmailIdentity": "example.com"}'),
        ("list", 0, "/v2/email/identities", "PageSize=100&NextToken=abc%2F%2B%3D",
         "abc/+=", "", ""),
        ("verify-v1", 1 | 8, "/", "", "user@example.com",
         "application/x-www-form-urlencoded; charset=utf-8",
         "Action=VerifyEmailIdentity&Version=2010-12-01"
         "&EmailAddress=user%40example.com"),
        ("path-dots", 2 | 4, "/a/./b/../../c//d/", "a=1&&b&=2&a=0&%zz=%4",
         "%41%", "  folded \t  value  ", ""),
        ("s3-style", 16 | 32, "/a b/%2F/../x", "k=v+w", "\u2028",
         "v", "body"),
        ("relative", 0, "no-slash", "=", "\x00\xff", "", ""),
    ]
    for name, mode, path, query, tok, hval, body in cases:
        parts = [b(x) for x in (path, query, tok, hval)]
        write("sigv4", name, bytes([mode] + [len(x) for x in parts])
              + b"".join(parts) + b(body))


def main():
    identity()
    api_body()
    from_()
    ses_classify()
    ses_xml()
    ses_identity()
    ses_list()
    jwt()
    credentials()
    time_()
    sigv4()
    return 0


if __name__ == "__main__":
    sys.exit(main())
