-- Hand-written MySQL/MariaDB DDL for prisma/oauth.prisma, identity.prisma and indexer.prisma (the wasm
-- schema engine has no MySQL connector). Translated from the PostgreSQL migration of the same name with
-- Prisma's MySQL defaults: String VARCHAR(191), Json JSON, DateTime DATETIME(3), Boolean BOOLEAN.
-- test/migrations.test.ts compares the migrated MySQL and PostgreSQL catalogs, and the storage suite runs
-- the generated client against it, so this file cannot drift from the schema unseen.

CREATE TABLE `atproto_identity_cache` (
    `key` VARCHAR(191) NOT NULL,
    `value` JSON NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_indexer_cursor` (
    `name` VARCHAR(191) NOT NULL,
    `cursor` VARCHAR(191) NOT NULL,
    PRIMARY KEY (`name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_indexed_record` (
    `uri` VARCHAR(191) NOT NULL,
    `collection` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `rkey` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `value` JSON NOT NULL,
    `indexedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_indexed_record_collection_indexedAt_idx`(`collection`, `indexedAt`),
    INDEX `atproto_indexed_record_collection_did_indexedAt_idx`(`collection`, `did`, `indexedAt`),
    PRIMARY KEY (`uri`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_unique` (
    `namespace` VARCHAR(191) NOT NULL,
    `key` VARCHAR(191) NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_unique_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`namespace`, `key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_request` (
    `id` VARCHAR(191) NOT NULL,
    `data` JSON NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_request_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_code` (
    `code` VARCHAR(191) NOT NULL,
    `grant` JSON NOT NULL,
    `used` BOOLEAN NOT NULL DEFAULT false,
    `expiresAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_code_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`code`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_session` (
    `id` VARCHAR(191) NOT NULL,
    `sub` VARCHAR(191) NOT NULL,
    `code` VARCHAR(191) NOT NULL,
    `refreshTokenHash` VARCHAR(191) NOT NULL,
    `refreshExpiresAt` DATETIME(3) NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    `revokedAt` DATETIME(3) NULL,
    `data` JSON NOT NULL,
    INDEX `atproto_oauth_session_sub_idx`(`sub`),
    INDEX `atproto_oauth_session_code_idx`(`code`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_refresh_hash` (
    `hash` VARCHAR(191) NOT NULL,
    `sessionId` VARCHAR(191) NOT NULL,
    INDEX `atproto_oauth_refresh_hash_sessionId_idx`(`sessionId`),
    PRIMARY KEY (`hash`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_device` (
    `deviceId` VARCHAR(191) NOT NULL,
    `sub` VARCHAR(191) NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`deviceId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_client` (
    `key` VARCHAR(191) NOT NULL,
    `metadata` JSON NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
