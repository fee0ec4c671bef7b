-- Hand-written MySQL/MariaDB DDL for prisma/repo.prisma: which records point at a CID (a commit deletes a
-- record block it replaced or deleted only when none does). did (512) and cid (191) are ASCII (0004):
-- 703 bytes, well inside the index limit.

CREATE INDEX `atproto_record_did_cid_idx` ON `atproto_record`(`did`, `cid`);
