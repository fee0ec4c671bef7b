-- MySQL/MariaDB only: Prisma's MySQL defaults (VARCHAR(191), utf8mb4_unicode_ci) break atproto keys.
-- Record keys, NSIDs, TIDs, CIDs and tokens are case-sensitive, so a case-insensitive collation merges
-- distinct records ('self' and 'Self') and orders them unlike the reference (byte order), and valid keys
-- are longer than 191 characters (record keys 512, NSIDs 317, did:web 261). Every table becomes
-- utf8mb4_bin (exact and case-sensitive: core lower-cases emails before they get here), and the
-- syntax-checked identifiers become ASCII columns at their spec lengths, 1 byte per character, so the
-- composite keys fit InnoDB's 3072-byte index limit. Hosted repos (account, repo, blob tables) hold
-- did:plc or did:web DIDs, at most 8 + 253 hostname characters: 512 leaves room for a port, and network-wide
-- tables (indexer) take the spec's 2048. CONVERT comes first in its own statement: it would turn the
-- ASCII columns back into utf8mb4. ascii_bin/utf8mb4_bin pad trailing spaces, which no identifier
-- can contain. The storage contract ("keeps record keys case-sensitive, at full spec length") checks it.

ALTER TABLE `atproto_account` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_account`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `handle` VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `email` VARCHAR(254) NULL,
    MODIFY `passwordHash` VARCHAR(512) NULL;

ALTER TABLE `atproto_refresh_token` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_refresh_token`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_app_password` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_app_password`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `passwordHash` VARCHAR(512) NOT NULL;

ALTER TABLE `atproto_email_token` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_email_token`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_repo_root` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_repo_root`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `rev` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_repo_block` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_repo_block`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `rev` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE `atproto_record` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_record`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `collection` VARCHAR(317) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `rkey` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `repoRev` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_seq_event` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_seq_event`
    MODIFY `did` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_seq_lock` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE `atproto_blob` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_blob`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

-- at:// + DID (512) + / + NSID (317) + / + record key (512) = 1348.
ALTER TABLE `atproto_blob_ref` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_blob_ref`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `recordUri` VARCHAR(1348) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_rate_limit` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

ALTER TABLE `atproto_plc_op` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_plc_op`
    MODIFY `did` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_repo_lock` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_repo_lock`
    MODIFY `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

-- Identity cache keys (handles, DIDs) and OAuth keys longer than 180 characters are stored hashed.
ALTER TABLE `atproto_identity_cache` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_indexer_cursor` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- at:// + DID (2048) + / + NSID (317) + / + record key (512) = 2884 bytes: the primary key fits 3072.
ALTER TABLE `atproto_indexed_record` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_indexed_record`
    MODIFY `uri` VARCHAR(2884) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `collection` VARCHAR(317) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `did` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `rkey` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    MODIFY `cid` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;

ALTER TABLE `atproto_oauth_unique` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_request` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_code` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_session` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_session`
    MODIFY `sub` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE `atproto_oauth_refresh_hash` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_device` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE `atproto_oauth_device`
    MODIFY `sub` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL;
ALTER TABLE `atproto_oauth_client` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
