-- Text columns take the "C" collation (byte order), as 0004_binary_keys gave every atproto table.

-- CreateTable
CREATE TABLE "atproto_oauth_client_state" (
    "state" TEXT COLLATE "C" NOT NULL,
    "data" JSONB NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_client_state_pkey" PRIMARY KEY ("state")
);

-- CreateTable
CREATE TABLE "atproto_oauth_client_session" (
    "id" TEXT COLLATE "C" NOT NULL,
    "did" TEXT COLLATE "C" NOT NULL,
    "data" JSONB NOT NULL,
    "tokens" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lockOwner" TEXT COLLATE "C",
    "lockExpiresAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "atproto_oauth_client_session_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "atproto_oauth_client_state_expiresAt_idx" ON "atproto_oauth_client_state"("expiresAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_client_session_did_createdAt_idx" ON "atproto_oauth_client_session"("did", "createdAt");

