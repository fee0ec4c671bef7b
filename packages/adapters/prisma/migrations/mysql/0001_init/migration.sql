-- Hand-written MySQL/MariaDB DDL for prisma/atproto.prisma (the wasm schema engine has no MySQL
-- connector). Column types are Prisma's MySQL defaults: String VARCHAR(191), Bytes LONGBLOB, DateTime
-- DATETIME(3), Boolean BOOLEAN. test/prisma-mysql.test.ts runs the generated client against it.

CREATE TABLE `atproto_account` (
    `did` VARCHAR(191) NOT NULL,
    `handle` VARCHAR(191) NOT NULL,
    `email` VARCHAR(191) NULL,
    `emailConfirmedAt` DATETIME(3) NULL,
    `passwordHash` VARCHAR(191) NULL,
    `signingKey` LONGBLOB NOT NULL,
    `status` VARCHAR(191) NOT NULL DEFAULT 'active',
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `deactivatedAt` DATETIME(3) NULL,
    UNIQUE INDEX `atproto_account_handle_key`(`handle`),
    UNIQUE INDEX `atproto_account_email_key`(`email`),
    PRIMARY KEY (`did`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_refresh_token` (
    `id` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `appPasswordName` VARCHAR(191) NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    `nextId` VARCHAR(191) NULL,
    INDEX `atproto_refresh_token_did_idx`(`did`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_app_password` (
    `did` VARCHAR(191) NOT NULL,
    `name` VARCHAR(191) NOT NULL,
    `passwordHash` VARCHAR(191) NOT NULL,
    `privileged` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (`did`, `name`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_email_token` (
    `purpose` VARCHAR(191) NOT NULL,
    `token` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `expiresAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`purpose`, `token`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_repo_root` (
    `did` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `rev` VARCHAR(191) NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (`did`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_repo_block` (
    `did` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `bytes` LONGBLOB NOT NULL,
    `rev` VARCHAR(191) NULL,
    INDEX `atproto_repo_block_did_rev_idx`(`did`, `rev`),
    PRIMARY KEY (`did`, `cid`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_record` (
    `did` VARCHAR(191) NOT NULL,
    `collection` VARCHAR(191) NOT NULL,
    `rkey` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `repoRev` VARCHAR(191) NOT NULL,
    `indexedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (`did`, `collection`, `rkey`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_seq_event` (
    `seq` INTEGER NOT NULL AUTO_INCREMENT,
    `did` VARCHAR(191) NOT NULL,
    `type` VARCHAR(191) NOT NULL,
    `body` LONGBLOB NOT NULL,
    `time` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_seq_event_time_idx`(`time`),
    PRIMARY KEY (`seq`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_seq_lock` (
    `id` INTEGER NOT NULL,
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_blob` (
    `did` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `mimeType` VARCHAR(191) NOT NULL,
    `size` INTEGER NOT NULL,
    `tempKey` VARCHAR(191) NULL,
    `takedown` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_blob_tempKey_idx`(`tempKey`),
    PRIMARY KEY (`did`, `cid`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_blob_ref` (
    `did` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `recordUri` VARCHAR(191) NOT NULL,
    INDEX `atproto_blob_ref_did_recordUri_idx`(`did`, `recordUri`),
    PRIMARY KEY (`did`, `cid`, `recordUri`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_rate_limit` (
    `key` VARCHAR(191) NOT NULL,
    `count` INTEGER NOT NULL,
    `resetAt` DATETIME(3) NOT NULL,
    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_plc_op` (
    `seq` INTEGER NOT NULL AUTO_INCREMENT,
    `did` VARCHAR(191) NOT NULL,
    `cid` VARCHAR(191) NOT NULL,
    `operation` LONGBLOB NOT NULL,
    `nullified` BOOLEAN NOT NULL DEFAULT false,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_plc_op_did_idx`(`did`),
    PRIMARY KEY (`seq`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
