-- CreateTable
CREATE TABLE "atproto_community_handle" (
    "handle" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_community_handle_pkey" PRIMARY KEY ("handle")
);

-- CreateIndex
CREATE INDEX "atproto_community_handle_did_idx" ON "atproto_community_handle"("did");

