-- Text columns take the "C" collation (byte order), as 0004_binary_keys explains.
-- CreateTable
CREATE TABLE "atproto_community_handle" (
    "handle" TEXT COLLATE "C" NOT NULL,
    "did" TEXT COLLATE "C" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_community_handle_pkey" PRIMARY KEY ("handle")
);

-- CreateIndex
CREATE INDEX "atproto_community_handle_did_idx" ON "atproto_community_handle"("did");

