-- Hand-written MySQL/MariaDB DDL for prisma/oauth-client.prisma; see 0002 for the conventions and
-- 0004_binary_keys for the collations: states and session ids are case-sensitive random strings, so the
-- tables are utf8mb4_bin and the identifiers ASCII (DIDs of any network account: up to 2048).

CREATE TABLE `atproto_oauth_client_state` (
    `state` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `data` JSON NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_client_state_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`state`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE `atproto_oauth_client_session` (
    `id` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `did` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `data` JSON NOT NULL,
    `tokens` JSON NOT NULL,
    `version` INTEGER NOT NULL DEFAULT 0,
    `lockOwner` VARCHAR(191) CHARACTER SET ascii COLLATE ascii_bin NULL,
    `lockExpiresAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_client_session_did_createdAt_idx`(`did`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
