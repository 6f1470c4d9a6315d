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
