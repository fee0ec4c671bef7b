-- Text columns take the "C" collation (byte order), as 0004_binary_keys explains.
-- CreateTable
CREATE TABLE "atproto_takedown" (
    "subject" TEXT COLLATE "C" NOT NULL,
    "ref" TEXT COLLATE "C" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_takedown_pkey" PRIMARY KEY ("subject")
);

-- CreateTable
CREATE TABLE "atproto_host_user" (
    "userId" TEXT COLLATE "C" NOT NULL,
    "did" TEXT COLLATE "C" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "atproto_host_user_pkey" PRIMARY KEY ("userId")
);

-- CreateIndex
CREATE UNIQUE INDEX "atproto_host_user_did_key" ON "atproto_host_user"("did");

