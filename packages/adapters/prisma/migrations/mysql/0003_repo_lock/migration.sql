-- Hand-written MySQL/MariaDB DDL for AtprotoRepoLock (prisma/repo.prisma); see 0002 for the conventions.

CREATE TABLE `atproto_repo_lock` (
    `did` VARCHAR(191) NOT NULL,
    PRIMARY KEY (`did`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
