-- Hand-written MySQL/MariaDB DDL for AtprotoTakedown and AtprotoHostUser (prisma/accounts.prisma); see 0002
-- for the conventions and 0004 for the key columns (binary collations, ASCII identifiers at spec lengths).
-- A takedown subject is a DID, an at:// record URI (at most 1348 characters) or "<did> <cid>".

CREATE TABLE `atproto_takedown` (
    `subject` VARCHAR(1348) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `ref` VARCHAR(2048) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (`subject`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE `atproto_host_user` (
    `userId` VARCHAR(191) NOT NULL,
    `did` VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE INDEX `atproto_host_user_did_key`(`did`),
    PRIMARY KEY (`userId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
