-- CreateTable
CREATE TABLE "atproto_oauth_client_state" (
    "state" TEXT NOT NULL PRIMARY KEY,
    "data" JSONB NOT NULL,
    "expiresAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "atproto_oauth_client_session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "did" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "tokens" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "lockOwner" TEXT,
    "lockExpiresAt" DATETIME,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "atproto_oauth_client_state_expiresAt_idx" ON "atproto_oauth_client_state"("expiresAt");

-- CreateIndex
CREATE INDEX "atproto_oauth_client_session_did_createdAt_idx" ON "atproto_oauth_client_session"("did", "createdAt");

