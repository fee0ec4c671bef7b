-- CreateTable
CREATE TABLE "atproto_identity_cache" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_identity_cache_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "atproto_indexer_cursor" (
    "name" TEXT NOT NULL,
    "cursor" TEXT NOT NULL,

    CONSTRAINT "atproto_indexer_cursor_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "atproto_indexed_record" (
    "uri" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "rkey" TEXT NOT NULL,
    "cid" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "indexedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_indexed_record_pkey" PRIMARY KEY ("uri")
);

-- CreateTable
CREATE TABLE "atproto_oauth_unique" (
    "namespace" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_unique_pkey" PRIMARY KEY ("namespace","key")
);

-- CreateTable
CREATE TABLE "atproto_oauth_request" (
    "id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_request_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "atproto_oauth_code" (
    "code" TEXT NOT NULL,
    "grant" JSONB NOT NULL,
    "used" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_code_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "atproto_oauth_session" (
    "id" TEXT NOT NULL,
    "sub" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "refreshTokenHash" TEXT NOT NULL,
    "refreshExpiresAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "data" JSONB NOT NULL,

    CONSTRAINT "atproto_oauth_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "atproto_oauth_refresh_hash" (
    "hash" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,

    CONSTRAINT "atproto_oauth_refresh_hash_pkey" PRIMARY KEY ("hash")
);

-- CreateTable
CREATE TABLE "atproto_oauth_device" (
    "deviceId" TEXT NOT NULL,
    "sub" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_device_pkey" PRIMARY KEY ("deviceId")
);

-- CreateTable
CREATE TABLE "atproto_oauth_client" (
    "key" TEXT NOT NULL,
    "metadata" JSONB NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_client_pkey" PRIMARY KEY ("key")
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
