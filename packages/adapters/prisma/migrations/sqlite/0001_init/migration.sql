-- CreateTable
CREATE TABLE "atproto_account" (
    "did" TEXT NOT NULL PRIMARY KEY,
    "handle" TEXT NOT NULL,
    "email" TEXT,
    "emailConfirmedAt" DATETIME,
    "passwordHash" TEXT,
    "signingKey" BLOB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivatedAt" DATETIME
);

-- CreateTable
CREATE TABLE "atproto_refresh_token" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "did" TEXT NOT NULL,
    "appPasswordName" TEXT,
    "expiresAt" DATETIME NOT NULL,
    "nextId" TEXT
);

-- CreateTable
CREATE TABLE "atproto_app_password" (
    "did" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "privileged" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("did", "name")
);

-- CreateTable
CREATE TABLE "atproto_email_token" (
    "purpose" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,

    PRIMARY KEY ("purpose", "token")
);

-- CreateTable
CREATE TABLE "atproto_repo_root" (
    "did" TEXT NOT NULL PRIMARY KEY,
    "cid" TEXT NOT NULL,
    "rev" TEXT NOT NULL,
    "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "atproto_repo_block" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "bytes" BLOB NOT NULL,
    "rev" TEXT,

    PRIMARY KEY ("did", "cid")
);

-- CreateTable
CREATE TABLE "atproto_record" (
    "did" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "rkey" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "repoRev" TEXT NOT NULL,
    "indexedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("did", "collection", "rkey")
);

-- CreateTable
CREATE TABLE "atproto_seq_event" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "did" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "body" BLOB NOT NULL,
    "time" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "atproto_seq_lock" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT
);

-- CreateTable
CREATE TABLE "atproto_blob" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "tempKey" TEXT,
    "takedown" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("did", "cid")
);

-- CreateTable
CREATE TABLE "atproto_blob_ref" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "recordUri" TEXT NOT NULL,

    PRIMARY KEY ("did", "cid", "recordUri")
);

-- CreateTable
CREATE TABLE "atproto_rate_limit" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "count" INTEGER NOT NULL,
    "resetAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_plc_op" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "operation" BLOB NOT NULL,
    "nullified" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "atproto_account_handle_key" ON "atproto_account"("handle");

-- CreateIndex
CREATE UNIQUE INDEX "atproto_account_email_key" ON "atproto_account"("email");

-- CreateIndex
CREATE INDEX "atproto_refresh_token_did_idx" ON "atproto_refresh_token"("did");

-- CreateIndex
CREATE INDEX "atproto_repo_block_did_rev_idx" ON "atproto_repo_block"("did", "rev");

-- CreateIndex
CREATE INDEX "atproto_seq_event_time_idx" ON "atproto_seq_event"("time");

-- CreateIndex
CREATE INDEX "atproto_blob_tempKey_idx" ON "atproto_blob"("tempKey");

-- CreateIndex
CREATE INDEX "atproto_blob_ref_did_recordUri_idx" ON "atproto_blob_ref"("did", "recordUri");

-- CreateIndex
CREATE INDEX "atproto_plc_op_did_idx" ON "atproto_plc_op"("did");

