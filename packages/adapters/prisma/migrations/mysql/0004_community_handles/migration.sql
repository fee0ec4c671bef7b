-- Hand-written MySQL/MariaDB DDL for AtprotoCommunityHandle (prisma/community.prisma); see 0002 for the
-- conventions (String VARCHAR(191), DateTime DATETIME(3)).

CREATE TABLE `atproto_community_handle` (
    `handle` VARCHAR(191) NOT NULL,
    `did` VARCHAR(191) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_community_handle_did_idx`(`did`),
    PRIMARY KEY (`handle`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
