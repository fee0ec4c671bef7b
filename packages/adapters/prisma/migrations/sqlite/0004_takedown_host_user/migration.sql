-- CreateTable
CREATE TABLE "atproto_takedown" (
    "subject" TEXT NOT NULL PRIMARY KEY,
    "ref" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "atproto_host_user" (
    "userId" TEXT NOT NULL PRIMARY KEY,
    "did" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE UNIQUE INDEX "atproto_host_user_did_key" ON "atproto_host_user"("did");

