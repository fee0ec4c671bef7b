-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "atproto_account" (
    "did" TEXT NOT NULL,
    "handle" TEXT NOT NULL,
    "email" TEXT,
    "emailConfirmedAt" TIMESTAMP(3),
    "passwordHash" TEXT,
    "signingKey" BYTEA NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'active',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deactivatedAt" TIMESTAMP(3),

    CONSTRAINT "atproto_account_pkey" PRIMARY KEY ("did")
);

-- CreateTable
CREATE TABLE "atproto_refresh_token" (
    "id" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "appPasswordName" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "nextId" TEXT,

    CONSTRAINT "atproto_refresh_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "atproto_app_password" (
    "did" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "privileged" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_app_password_pkey" PRIMARY KEY ("did","name")
);

-- CreateTable
CREATE TABLE "atproto_email_token" (
    "purpose" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_email_token_pkey" PRIMARY KEY ("purpose","token")
);

-- CreateTable
CREATE TABLE "atproto_repo_root" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "rev" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_repo_root_pkey" PRIMARY KEY ("did")
);

-- CreateTable
CREATE TABLE "atproto_repo_block" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,
    "rev" TEXT,

    CONSTRAINT "atproto_repo_block_pkey" PRIMARY KEY ("did","cid")
);

-- CreateTable
CREATE TABLE "atproto_record" (
    "did" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "rkey" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "repoRev" TEXT NOT NULL,
    "indexedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_record_pkey" PRIMARY KEY ("did","collection","rkey")
);

-- CreateTable
CREATE TABLE "atproto_seq_event" (
    "seq" SERIAL NOT NULL,
    "did" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "body" BYTEA NOT NULL,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_seq_event_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "atproto_seq_lock" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "atproto_seq_lock_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "atproto_blob" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "mimeType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "tempKey" TEXT,
    "takedown" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_blob_pkey" PRIMARY KEY ("did","cid")
);

-- CreateTable
CREATE TABLE "atproto_blob_ref" (
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "recordUri" TEXT NOT NULL,

    CONSTRAINT "atproto_blob_ref_pkey" PRIMARY KEY ("did","cid","recordUri")
);

-- CreateTable
CREATE TABLE "atproto_rate_limit" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL,
    "resetAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_rate_limit_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "atproto_plc_op" (
    "seq" SERIAL NOT NULL,
    "did" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "operation" BYTEA NOT NULL,
    "nullified" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_plc_op_pkey" PRIMARY KEY ("seq")
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

