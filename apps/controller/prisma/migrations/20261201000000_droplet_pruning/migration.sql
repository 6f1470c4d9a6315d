-- Droplets beyond the newest PAAS_RELEASES_KEPT releases of an app are deleted from the blobstore
-- (with the source packages of their builds); their rows stay for the release history, marked here.
ALTER TABLE "droplets" ADD COLUMN "pruned_at" TIMESTAMP(3);
CREATE INDEX "droplets_app_id_pruned_at_idx" ON "droplets"("app_id", "pruned_at");
