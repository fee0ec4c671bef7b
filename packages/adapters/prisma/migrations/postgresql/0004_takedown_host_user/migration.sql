-- CreateTable
CREATE TABLE "atproto_takedown" (
    "subject" TEXT NOT NULL,
    "ref" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_takedown_pkey" PRIMARY KEY ("subject")
);

-- CreateTable
CREATE TABLE "atproto_host_user" (
    "userId" TEXT NOT NULL,
    "did" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_host_user_pkey" PRIMARY KEY ("userId")
);

-- CreateIndex
CREATE UNIQUE INDEX "atproto_host_user_did_key" ON "atproto_host_user"("did");

