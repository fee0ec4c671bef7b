-- Hand-written MySQL/MariaDB DDL for AtprotoCommunityHandle (prisma/community.prisma); see 0002 for the
-- conventions and 0004 for the key columns (binary collations, ASCII identifiers at spec lengths). The
-- DIDs are any network's, hence the spec's 2048.

CREATE TABLE `atproto_community_handle` (
    `handle` VARCHAR(253) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `did` VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    INDEX `atproto_community_handle_did_idx`(`did`),
    PRIMARY KEY (`handle`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
