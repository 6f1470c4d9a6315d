-- HTTPS (docs/https.md): orgs add their own domains after proving control of them, certificates
-- (uploaded, ordered by ACME, or the platform's own) are served by the routers, and each route
-- may redirect plain HTTP to HTTPS and send HSTS.

-- Domains that exist were added by platform admins: verified.
ALTER TABLE "domains" ADD COLUMN "verified_at" TIMESTAMP(3);
ALTER TABLE "domains" ADD COLUMN "verification_token" TEXT;
ALTER TABLE "domains" ADD COLUMN "verification_error" TEXT;
UPDATE "domains" SET "verified_at" = "created_at";
ALTER TABLE "domains" ADD CONSTRAINT "domains_verification_check"
  CHECK ("verified_at" IS NOT NULL OR "verification_token" IS NOT NULL);

ALTER TABLE "routes" ADD COLUMN "https_redirect" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "routes" ADD COLUMN "hsts_max_age" INTEGER;
ALTER TABLE "routes" ADD CONSTRAINT "routes_hsts_max_age_check"
  CHECK ("hsts_max_age" IS NULL OR ("hsts_max_age" >= 0 AND "hsts_max_age" <= 63072000));

CREATE TABLE "certificates" (
  "id" UUID NOT NULL,
  "org_id" UUID,
  "source" TEXT NOT NULL,
  "state" TEXT NOT NULL DEFAULT 'pending',
  "names" TEXT[] NOT NULL,
  "chain_pem" TEXT,
  "key_sealed" TEXT,
  "issuer" TEXT,
  "not_before" TIMESTAMP(3),
  "not_after" TIMESTAMP(3),
  "last_error" TEXT,
  "attempts" INTEGER NOT NULL DEFAULT 0,
  "next_attempt_at" TIMESTAMP(3),
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL,
  CONSTRAINT "certificates_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "certificates_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "certificates_source_check" CHECK ("source" IN ('upload', 'acme', 'platform')),
  CONSTRAINT "certificates_state_check" CHECK ("state" IN ('pending', 'issued', 'failed', 'expired')),
  CONSTRAINT "certificates_names_check" CHECK (cardinality("names") BETWEEN 1 AND 100),
  -- An issued certificate has its chain, key and dates.
  CONSTRAINT "certificates_issued_check" CHECK ("state" <> 'issued' OR ("chain_pem" IS NOT NULL AND "key_sealed" IS NOT NULL AND "not_after" IS NOT NULL)),
  CONSTRAINT "certificates_platform_check" CHECK ("source" <> 'platform' OR "org_id" IS NULL)
);
CREATE INDEX "certificates_org_id_idx" ON "certificates"("org_id");
CREATE INDEX "certificates_state_next_attempt_at_idx" ON "certificates"("state", "next_attempt_at");

CREATE TABLE "acme_accounts" (
  "directory_url" TEXT NOT NULL,
  "key_sealed" TEXT NOT NULL,
  "account_url" TEXT,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "acme_accounts_pkey" PRIMARY KEY ("directory_url")
);
