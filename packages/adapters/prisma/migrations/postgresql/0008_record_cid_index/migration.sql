-- CreateIndex
CREATE INDEX "atproto_record_did_cid_idx" ON "atproto_record"("did", "cid");
