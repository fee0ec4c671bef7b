-- Hand-written MySQL/MariaDB DDL for AtprotoTakedown and AtprotoHostUser (prisma/accounts.prisma); see 0002
-- for the conventions.

CREATE TABLE `atproto_takedown` (
    `subject` VARCHAR(191) NOT NULL,
    `ref` VARCHAR(191) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (`subject`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `atproto_host_user` (
    `userId` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    UNIQUE INDEX `atproto_host_user_did_key`(`did`),
    PRIMARY KEY (`userId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
