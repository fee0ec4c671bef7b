-- PostgreSQL only: atproto keys compare and sort by bytes, as in the reference (SQLite) and the memory
-- adapter. Under a linguistic database collation (en_US.UTF-8, ICU: the usual default), ORDER BY rkey
-- and cursor comparisons would follow language rules (punctuation ignored, case folded first) and
-- pages would come back in a different order than the reference's. Every text column takes the "C"
-- collation, and its indexes are rebuilt with it. The storage contract ("keeps record keys case-sensitive,
-- at full spec length, ordered by bytes") runs against an ICU en-US database to check it.

ALTER TABLE "atproto_account"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "handle" TYPE TEXT COLLATE "C",
    ALTER COLUMN "email" TYPE TEXT COLLATE "C",
    ALTER COLUMN "passwordHash" TYPE TEXT COLLATE "C",
    ALTER COLUMN "status" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_app_password"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "name" TYPE TEXT COLLATE "C",
    ALTER COLUMN "passwordHash" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_blob"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C",
    ALTER COLUMN "mimeType" TYPE TEXT COLLATE "C",
    ALTER COLUMN "tempKey" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_blob_ref"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C",
    ALTER COLUMN "recordUri" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_email_token"
    ALTER COLUMN "purpose" TYPE TEXT COLLATE "C",
    ALTER COLUMN "token" TYPE TEXT COLLATE "C",
    ALTER COLUMN "did" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_identity_cache"
    ALTER COLUMN "key" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_indexed_record"
    ALTER COLUMN "uri" TYPE TEXT COLLATE "C",
    ALTER COLUMN "collection" TYPE TEXT COLLATE "C",
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "rkey" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_indexer_cursor"
    ALTER COLUMN "name" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cursor" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_client"
    ALTER COLUMN "key" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_code"
    ALTER COLUMN "code" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_device"
    ALTER COLUMN "deviceId" TYPE TEXT COLLATE "C",
    ALTER COLUMN "sub" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_refresh_hash"
    ALTER COLUMN "hash" TYPE TEXT COLLATE "C",
    ALTER COLUMN "sessionId" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_request"
    ALTER COLUMN "id" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_session"
    ALTER COLUMN "id" TYPE TEXT COLLATE "C",
    ALTER COLUMN "sub" TYPE TEXT COLLATE "C",
    ALTER COLUMN "code" TYPE TEXT COLLATE "C",
    ALTER COLUMN "refreshTokenHash" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_oauth_unique"
    ALTER COLUMN "namespace" TYPE TEXT COLLATE "C",
    ALTER COLUMN "key" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_plc_op"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_rate_limit"
    ALTER COLUMN "key" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_record"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "collection" TYPE TEXT COLLATE "C",
    ALTER COLUMN "rkey" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C",
    ALTER COLUMN "repoRev" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_refresh_token"
    ALTER COLUMN "id" TYPE TEXT COLLATE "C",
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "appPasswordName" TYPE TEXT COLLATE "C",
    ALTER COLUMN "nextId" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_repo_block"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C",
    ALTER COLUMN "rev" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_repo_lock"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_repo_root"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "cid" TYPE TEXT COLLATE "C",
    ALTER COLUMN "rev" TYPE TEXT COLLATE "C";

ALTER TABLE "atproto_seq_event"
    ALTER COLUMN "did" TYPE TEXT COLLATE "C",
    ALTER COLUMN "type" TYPE TEXT COLLATE "C";
