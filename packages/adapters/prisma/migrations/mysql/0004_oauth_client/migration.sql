-- Hand-written MySQL/MariaDB DDL for prisma/oauth-client.prisma; see 0002 for the conventions.

CREATE TABLE `atproto_oauth_client_state` (
    `state` VARCHAR(191) NOT NULL,
    `data` JSON NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_client_state_expiresAt_idx`(`expiresAt`),
    PRIMARY KEY (`state`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_oauth_client_session` (
    `id` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `data` JSON NOT NULL,
    `tokens` JSON NOT NULL,
    `version` INTEGER NOT NULL DEFAULT 0,
    `lockOwner` VARCHAR(191) NULL,
    `lockExpiresAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,
    INDEX `atproto_oauth_client_session_did_createdAt_idx`(`did`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
