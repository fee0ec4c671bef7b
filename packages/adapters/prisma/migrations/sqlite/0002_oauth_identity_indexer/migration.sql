-- CreateTable
CREATE TABLE "atproto_identity_cache" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" JSONB NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_indexer_cursor" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "cursor" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_indexed_record" (
    "uri" TEXT NOT NULL PRIMARY KEY,
    "collection" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "rkey" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "indexedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "atproto_oauth_unique" (
    "namespace" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,

    PRIMARY KEY ("namespace", "key")
);

-- CreateTable
CREATE TABLE "atproto_oauth_request" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "data" JSONB NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_code" (
    "code" TEXT NOT NULL PRIMARY KEY,
    "grant" JSONB NOT NULL,
    "used" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sub" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "refreshTokenHash" TEXT NOT NULL,
    "refreshExpiresAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "revokedAt" DATETIME,
    "data" JSONB NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_refresh_hash" (
    "hash" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_device" (
    "deviceId" TEXT NOT NULL PRIMARY KEY,
    "sub" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_client" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "metadata" JSONB NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "atproto_indexed_record_collection_indexedAt_idx" ON "atproto_indexed_record"("collection", "indexedAt");

-- CreateIndex
CREATE INDEX "atproto_indexed_record_collection_did_indexedAt_idx" ON "atproto_indexed_record"("collection", "did", "indexedAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_unique_expiresAt_idx" ON "atproto_oauth_unique"("expiresAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_request_expiresAt_idx" ON "atproto_oauth_request"("expiresAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_code_expiresAt_idx" ON "atproto_oauth_code"("expiresAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_session_sub_idx" ON "atproto_oauth_session"("sub");

-- CreateIndex
CREATE INDEX "atproto_oauth_session_code_idx" ON "atproto_oauth_session"("code");

-- CreateIndex
CREATE INDEX "atproto_oauth_refresh_hash_sessionId_idx" ON "atproto_oauth_refresh_hash"("sessionId");
