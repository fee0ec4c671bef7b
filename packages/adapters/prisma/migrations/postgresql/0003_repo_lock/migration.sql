-- CreateTable
CREATE TABLE "atproto_repo_lock" (
    "did" TEXT NOT NULL,

    CONSTRAINT "atproto_repo_lock_pkey" PRIMARY KEY ("did")
);
