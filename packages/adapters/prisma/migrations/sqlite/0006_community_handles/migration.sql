-- CreateTable
CREATE TABLE "atproto_community_handle" (
    "handle" TEXT NOT NULL PRIMARY KEY,
    "did" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "atproto_community_handle_did_idx" ON "atproto_community_handle"("did");
