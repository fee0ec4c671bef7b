-- CreateTable
CREATE TABLE "atproto_repo_lock" (
    "did" TEXT NOT NULL PRIMARY KEY
);
