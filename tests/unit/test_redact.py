"""Redaction corpus: realistic log lines, each with the secrets that must go and the
context that must stay."""

from __future__ import annotations

import pytest

from bot.core.redact import redact, safe_url

JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFsaWNlIn0"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
GITHUB_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
PEM = """-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8Ke2ssKzBqJL0h0Yk4yIzTWmn
q9eQjpmT2o3ZuoeSHqVQ6oXkI3w0lkbmO0yHq5CMFJMbJiUXq0y6fT7GYGZ1Pp0b
-----END RSA PRIVATE KEY-----"""

# (line, secrets that must be gone, context that must stay)
CORPUS: list[tuple[str, list[str], list[str]]] = [
    # bearer tokens
    ("GET /v1/orders Authorization: Bearer x",
     [], ["Authorization: Bearer ***", "GET /v1/orders"]),
    ("request headers: Authorization: Bearer sk_live_51HqLyjWDarjtT1zdp7dc",
     ["sk_live_51HqLyjWDarjtT1zdp7dc"], ["Authorization: Bearer ***"]),
    ("curl -s -H 'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543' https://api.acme.io/me",
     ["8f14e45fceea167a5a36dedd4bea2543"],
     ["Authorization: Bearer ***'", "https://api.acme.io/me"]),
    ('{"headers": {"Authorization": "Bearer abc.def-123_ghi", "Accept": "application/json"}}',
     ["abc.def-123_ghi"], ['"Authorization": "Bearer ***"', '"Accept": "application/json"']),
    ("upstream said: bearer 9d8f7a6b5c4d3e2f1a0b rejected for user alice",
     ["9d8f7a6b5c4d3e2f1a0b"], ["bearer ***", "user alice"]),
    ("Using basic authentication for user bob on host db.internal",
     [], ["Using basic authentication for user bob on host db.internal"]),
    # Authorization: Basic
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==",
     ["dXNlcjpwYXNzd29yZA=="], ["Authorization: Basic ***"]),
    ("proxy-authorization: Basic YWRtaW46aHVudGVyMg== via squid.corp.local",
     ["YWRtaW46aHVudGVyMg=="], ["proxy-authorization: Basic ***", "squid.corp.local"]),
    ("Authorization: token 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",
     ["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"], ["Authorization: token ***"]),
    ('Authorization: Digest username="bob", realm="api", nonce="dcd98b", response="6629fae4"',
     ['response="6629fae4"', 'nonce="dcd98b"'], ["Authorization: Digest ***"]),
    ("missing header: expected 'Authorization: Bearer' from the gateway", [],
     ["expected 'Authorization: Bearer' from the gateway"]),
    # passwords in URLs and DSNs
    ("connecting to postgres://orders_app:s3cr3t-P4ss@db-primary.prod.internal:5432/orders",
     ["s3cr3t-P4ss"], ["postgres://orders_app:***@db-primary.prod.internal:5432/orders"]),
    ("DATABASE_URL=postgresql://app:p%40ss%2Fw0rd@10.0.3.7/app?sslmode=require",
     ["p%40ss%2Fw0rd"], ["postgresql://app:***@10.0.3.7/app?sslmode=require"]),
    ("cache: redis://:hunter2@cache-01.internal:6379/0 (pool=10)",
     ["hunter2"], ["redis://:***@cache-01.internal:6379/0", "pool=10"]),
    ("rediss://default:Zx8-Qw3_Kp@redis.example.com:6380",
     ["Zx8-Qw3_Kp"], ["rediss://default:***@redis.example.com:6380"]),
    ("amqp connection amqp://guest:guest@rabbitmq:5672/%2F established",
     [":guest@"], ["amqp://guest:***@rabbitmq:5672/%2F established"]),
    ("MONGO_URI=mongodb+srv://admin:Pa55w0rd!@cluster0.ab1cd.mongodb.net/shop?retryWrites=true",
     ["Pa55w0rd!"], ["mongodb+srv://admin:***@cluster0.ab1cd.mongodb.net/shop?retryWrites=true"]),
    ("mysql://root:p@ssw@rd@mysql.local:3306/db",
     ["p@ssw@rd", "ssw@rd", "rd@mysql"], ["mysql://root:***@mysql.local:3306/db"]),
    # password= / secret= / token= / api_key= in query strings
    ("GET /login?user=bob&password=hunter2&next=/home HTTP/1.1",
     ["hunter2"], ["user=bob", "password=***", "next=/home", "HTTP/1.1"]),
    ("POST https://hooks.acme.io/cb?client_secret=9s8d7f6g5h&client_id=warroom",
     ["9s8d7f6g5h"], ["client_secret=***", "client_id=warroom", "hooks.acme.io"]),
    ("redirect to /oauth/done?code=ok&access_token=ya29.a0AfH6SMBx3&state=xyz",
     ["ya29.a0AfH6SMBx3"], ["access_token=***", "state=xyz", "code=ok"]),
    ("https://maps.example.com/api/geocode?address=Main+St&api_key=AIzaSyD-9tSrke72PouQMnMX",
     ["AIzaSyD-9tSrke72PouQMnMX"], ["api_key=***", "address=Main+St", "maps.example.com"]),
    ("webhook https://example.com/x?token=abc123;retry=3",
     ["abc123"], ["token=***", "retry=3"]),
    # env dumps
    ("PWD=/srv/app OLDPWD=/root HOSTNAME=web-7d9f POSTGRES_PASSWORD=pgpass123 POSTGRES_USER=app",
     ["pgpass123"], ["PWD=/srv/app", "OLDPWD=/root", "HOSTNAME=web-7d9f",
                     "POSTGRES_PASSWORD=***", "POSTGRES_USER=app"]),
    ("SLACK_SIGNING_SECRET=8f742231b10e8888abcd99yyyzzz85a5 LOG_LEVEL=info",
     ["8f742231b10e8888abcd99yyyzzz85a5"], ["SLACK_SIGNING_SECRET=***", "LOG_LEVEL=info"]),
    ("export DB_PASS=Tr0ub4dor&3 DB_HOST=db.internal",
     ["Tr0ub4dor", "&3"], ["DB_PASS=*** DB_HOST=db.internal"]),
    ("env: REDIS_PWD=r3d1s BYPASS_CACHE=true AUTHOR=carol",
     ["r3d1s"], ["REDIS_PWD=***", "BYPASS_CACHE=true", "AUTHOR=carol"]),
    ("--user admin --password hunter2 --host db.internal",
     ["hunter2"], ["--user admin", "--password ***", "--host db.internal"]),
    # JSON
    ('{"user": "alice", "password": "correct horse battery staple", "host": "db.internal"}',
     ["correct horse", "battery staple"], ['"user": "alice"', '"password": "***"',
                                          '"host": "db.internal"']),
    ('{"api_key":"k-12345-abcde","apiKey":"AbC987","secret":"","region":"eu-west-1"}',
     ["k-12345-abcde", "AbC987"], ['"api_key":"***"', '"apiKey":"***"', '"region":"eu-west-1"']),
    ("{'token': 'tok_live_xyz789', 'user_id': 42}",
     ["tok_live_xyz789"], ["'token': '***'", "'user_id': 42"]),
    ("config loaded: db.password: s3cret! db.user: app",
     ["s3cret!"], ["db.password: ***", "db.user: app"]),
    ("spring:\n  datasource:\n    password:\n    username: orders\n", [],
     ["password:\n    username: orders"]),
    # cookies
    ("Cookie: sessionid=8c1f2a9e77b04d3f; csrftoken=Qm9vYmF6; theme=dark",
     ["8c1f2a9e77b04d3f", "Qm9vYmF6", "dark"], ["Cookie: sessionid=***; csrftoken=***"]),
    ("< Set-Cookie: JSESSIONID=F3A1B2C3D4E5; Path=/shop; Secure; HttpOnly",
     ["F3A1B2C3D4E5"], ["Set-Cookie: JSESSIONID=***; Path=/shop; Secure; HttpOnly"]),
    # AWS
    ("Using AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE for bucket s3://acme-logs",
     ["AKIAIOSFODNN7EXAMPLE"], ["AWS_ACCESS_KEY_ID=***", "s3://acme-logs"]),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"], ["aws_secret_access_key = ***"]),
    ("botocore: credentials found AKIAJ7Q3X5YQZ2EXAMPL in env for region us-east-1",
     ["AKIAJ7Q3X5YQZ2EXAMPL"], ["credentials found", "region us-east-1"]),
    # PEM private keys (multi-line, and cut off in a log tail)
    (f"loading key for tls.acme.io\n{PEM}\nkey loaded",
     ["MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8Ke2ssKzBqJL0h0Yk4yIzTWmn",
      "q9eQjpmT2o3ZuoeSHqVQ6oXkI3w0lkbmO0yHq5CMFJMbJiUXq0y6fT7GYGZ1Pp0b"],
     ["loading key for tls.acme.io", "key loaded"]),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB",
     ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"], []),
    ('{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'
     '-----END PRIVATE KEY-----\\n", "client_email": "bot@proj.iam.gserviceaccount.com"}',
     ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"], ['"client_email": "bot@proj.iam.gserviceaccount.com"']),
    ("-----BEGIN CERTIFICATE----- is public and stays",
     [], ["-----BEGIN CERTIFICATE----- is public and stays"]),
    # Slack
    ("slack: using token xoxb-2048-4096-AbCdEfGhIjKlMnOpQrStUvWx for team T0123",
     ["xoxb-2048-4096-AbCdEfGhIjKlMnOpQrStUvWx"], ["slack: using token", "team T0123"]),
    ("SLACK_APP_TOKEN=xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef socket mode on",
     ["xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"], ["socket mode on"]),
    ("posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
     ["XXXXXXXXXXXXXXXXXXXXXXXX", "B00000000"], ["https://hooks.slack.com/services/***"]),
    ("xoxp-1111-2222-3333-abcdef user token revoked",
     ["xoxp-1111-2222-3333-abcdef"], ["user token revoked"]),
    # GitHub
    ("git clone https://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@github.com/acme/warroom.git",
     ["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"], ["@github.com/acme/warroom.git"]),
    ("GITHUB_TOKEN=gho_16C7e42F292c6912E7710c838347Ae178B4a set by CI",
     ["gho_16C7e42F292c6912E7710c838347Ae178B4a"], ["set by CI"]),
    (f"fine-grained {GITHUB_PAT} ok", [GITHUB_PAT],
     ["fine-grained", " ok"]),
    ("https://x-access-token:ghs_abcdefghijklmnopqrstuvwxyz0123@github.com/acme/api",
     ["ghs_abcdefghijklmnopqrstuvwxyz0123"], ["x-access-token:***@github.com/acme/api"]),
    # JWTs
    (f"Set-Cookie: session={JWT}; Path=/; HttpOnly",
     [JWT, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"], ["Path=/; HttpOnly", "Set-Cookie"]),
    (f"id_token received for alice@acme.io: {JWT}",
     [JWT], ["id_token received for alice@acme.io"]),
    (f"Authorization: Bearer {JWT}",
     [JWT], ["Authorization: Bearer ***"]),
    # harmless lines stay as they are
    ("GET /healthz 200 in 3 ms host=checkout-7f9c user=deploy", [],
     ["GET /healthz 200 in 3 ms host=checkout-7f9c user=deploy"]),
    ("tests: 12 passed, 0 failed; author=alice; compass=north", [],
     ["tests: 12 passed, 0 failed; author=alice; compass=north"]),
]


@pytest.mark.parametrize("line, secrets, context", CORPUS,
                         ids=[f"{i:02d}-{c[0][:40]}" for i, c in enumerate(CORPUS)])
def test_redact_removes_the_secret_and_keeps_the_context(line, secrets, context):
    out = redact(line)
    for secret in secrets:
        assert secret not in out, f"{secret!r} left in {out!r}"
    for kept in context:
        assert kept in out, f"{kept!r} lost from {out!r}"
    if secrets:
        assert "***" in out


def test_redact_authorization_bearer_keeps_the_scheme():
    assert redact("Authorization: Bearer x") == "Authorization: Bearer ***"


def test_redact_is_idempotent_over_the_corpus():
    for line, _, _ in CORPUS:
        once = redact(line)
        assert redact(once) == once


def test_redact_leaves_text_without_secrets_unchanged():
    text = "checkout: 503 in 42 ms from http://checkout:8080/actuator/health (db DOWN)"
    assert redact(text) == text


def test_safe_url_drops_the_password_and_keeps_user_host_path_query():
    assert safe_url("postgresql://app:s3cret@db:5432/orders?sslmode=require&password=x") \
        == "postgresql://app@db:5432/orders?sslmode=require"
    assert safe_url("redis://:hunter2@cache:6379/0") == "redis://cache:6379/0"
    assert safe_url("http://guest:guest@127.0.0.1:15672") == "http://guest@127.0.0.1:15672"
    assert safe_url("https://api.acme.io/health?token=abc&x=1") == "https://api.acme.io/health?x=1"


def test_a_password_with_an_unencoded_slash_is_still_hidden():
    from bot.core.redact import safe_url

    dsn = "postgresql://app:abc/def+ghi=@db/app"
    assert "abc/def" not in safe_url(dsn) and safe_url(dsn) == "postgresql://app@db/app"
    assert "abc/def" not in redact(f"cannot connect to {dsn}: refused")
