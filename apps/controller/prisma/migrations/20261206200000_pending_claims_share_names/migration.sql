-- Own domains (docs/https.md): an org's unverified claim of a name no longer blocks other orgs.
-- Several orgs may each wait to verify the same name; the first to prove control holds it, and
-- the others' claims of it (and of names inside or above it) are deleted then. Otherwise any org
-- could keep a domain's real owner (or every name under a two-label suffix such as co.uk) from
-- ever adding it, by claiming it first.
DROP INDEX "domains_name_key";
-- One verified domain per name (shared domains are verified, so this covers them too)...
CREATE UNIQUE INDEX "domains_verified_name_key" ON "domains"("name") WHERE "verified_at" IS NOT NULL;
-- ...and one claim per org and name.
CREATE UNIQUE INDEX "domains_org_id_name_key" ON "domains"("org_id", "name") WHERE "org_id" IS NOT NULL;
CREATE INDEX "domains_name_idx" ON "domains"("name");
