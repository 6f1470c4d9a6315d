-- A host belongs to one space (issue 12): on every domain, the space of a host's first route owns
-- every route on that host, whatever its path, so no other space can take /api of someone
-- else's host. route_hosts holds the owner of each (domain, host); the routes' foreign key on
-- (domain, host, space) makes Postgres refuse a route of any other space, whichever code path
-- writes it. Claimed with the first route (INSERT ... ON CONFLICT DO NOTHING, then the row
-- locked), freed with the last one.

CREATE TABLE "route_hosts" (
    "domain_id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "space_id" UUID NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "route_hosts_pkey" PRIMARY KEY ("domain_id", "host"),
    CONSTRAINT "route_hosts_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "route_hosts_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "route_hosts_domain_id_host_space_id_key" ON "route_hosts"("domain_id", "host", "space_id");
CREATE INDEX "route_hosts_space_id_idx" ON "route_hosts"("space_id");

-- Existing hosts belong to the space of their oldest route.
INSERT INTO "route_hosts" ("domain_id", "host", "space_id", "created_at")
SELECT DISTINCT ON ("domain_id", "host") "domain_id", "host", "space_id", "created_at"
FROM "routes"
ORDER BY "domain_id", "host", "created_at", "id";

-- NOT VALID: routes another space already holds on a host are kept (nothing stored is lost), but
-- the controller no longer projects them to the routers and logs each one at boot
-- (route-not-served) so an operator can delete it; every new or changed route is checked.
ALTER TABLE "routes" ADD CONSTRAINT "routes_domain_id_host_space_id_fkey"
    FOREIGN KEY ("domain_id", "host", "space_id") REFERENCES "route_hosts"("domain_id", "host", "space_id")
    ON DELETE NO ACTION ON UPDATE NO ACTION NOT VALID;

-- Private domains serve their own org only, and a route serves apps of its own space only: the
-- API checks both; these triggers make Postgres refuse the rows too, whichever code path writes them.
CREATE FUNCTION "routes_domain_of_own_org"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM "domains" d JOIN "spaces" s ON s."id" = NEW."space_id"
    WHERE d."id" = NEW."domain_id" AND d."org_id" IS NOT NULL AND d."org_id" <> s."org_id"
  ) THEN
    RAISE EXCEPTION 'route % is on a domain private to another org than its space''s', NEW."id" USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "routes_domain_of_own_org" BEFORE INSERT OR UPDATE OF "domain_id", "space_id" ON "routes"
  FOR EACH ROW EXECUTE FUNCTION "routes_domain_of_own_org"();

CREATE FUNCTION "route_destinations_of_own_space"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM "routes" r JOIN "apps" a ON a."space_id" = r."space_id"
    WHERE r."id" = NEW."route_id" AND a."id" = NEW."app_id"
  ) THEN
    RAISE EXCEPTION 'destination % binds an app of another space than route %', NEW."id", NEW."route_id" USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER "route_destinations_of_own_space" BEFORE INSERT OR UPDATE OF "route_id", "app_id" ON "route_destinations"
  FOR EACH ROW EXECUTE FUNCTION "route_destinations_of_own_space"();
