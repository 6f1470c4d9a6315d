-- The whole resource model: users and roles, orgs and spaces, processes, droplets, releases with
-- env, deployments, domains, routes and their destinations, events. Existing data moves into a
-- "default" org and space owned by the admin user.

CREATE TYPE "SpaceRoleName" AS ENUM ('ADMIN', 'DEVELOPER', 'VIEWER');
CREATE TYPE "HealthCheckType" AS ENUM ('PORT', 'HTTP', 'PROCESS');
CREATE TYPE "DeploymentState" AS ENUM ('DEPLOYING', 'DEPLOYED', 'FAILED', 'CANCELED');

CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_name_key" ON "users"("name");
INSERT INTO "users" ("name", "is_admin") VALUES ('admin', true);

ALTER TABLE "api_tokens" ADD COLUMN "user_id" UUID;
UPDATE "api_tokens" SET "user_id" = (SELECT "id" FROM "users" WHERE "name" = 'admin');
ALTER TABLE "api_tokens" ALTER COLUMN "user_id" SET NOT NULL;
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "orgs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "orgs_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "orgs_name_key" ON "orgs"("name");

CREATE TABLE "spaces" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "org_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "spaces_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "spaces_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "spaces_org_id_name_key" ON "spaces"("org_id", "name");

CREATE TABLE "space_roles" (
    "user_id" UUID NOT NULL,
    "space_id" UUID NOT NULL,
    "role" "SpaceRoleName" NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "space_roles_pkey" PRIMARY KEY ("user_id", "space_id"),
    CONSTRAINT "space_roles_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "space_roles_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

INSERT INTO "orgs" ("name") VALUES ('default');
INSERT INTO "spaces" ("org_id", "name") SELECT "id", 'default' FROM "orgs" WHERE "name" = 'default';

ALTER TABLE "apps" ADD COLUMN "space_id" UUID;
ALTER TABLE "apps" ADD COLUMN "env" JSONB NOT NULL DEFAULT '{}';
UPDATE "apps" SET "space_id" = (SELECT s."id" FROM "spaces" s JOIN "orgs" o ON o."id" = s."org_id" WHERE o."name" = 'default' AND s."name" = 'default');
ALTER TABLE "apps" ALTER COLUMN "space_id" SET NOT NULL;
ALTER TABLE "apps" ADD CONSTRAINT "apps_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "apps_space_id_idx" ON "apps"("space_id");

CREATE TABLE "processes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "instances" INTEGER NOT NULL DEFAULT 1,
    "memory_mb" INTEGER NOT NULL DEFAULT 256,
    "disk_mb" INTEGER NOT NULL DEFAULT 1024,
    "command" TEXT,
    "health_check_type" "HealthCheckType" NOT NULL DEFAULT 'PORT',
    "health_check_endpoint" TEXT,
    "health_check_timeout_s" INTEGER NOT NULL DEFAULT 60,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "processes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "processes_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "processes_app_id_type_key" ON "processes"("app_id", "type");
INSERT INTO "processes" ("app_id", "type", "instances", "memory_mb") SELECT "id", 'web', "instances", "memory_mb" FROM "apps";
ALTER TABLE "apps" DROP COLUMN "instances";
ALTER TABLE "apps" DROP COLUMN "memory_mb";

CREATE TABLE "droplets" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app_id" UUID NOT NULL,
    "build_id" UUID NOT NULL,
    "blob_id" TEXT NOT NULL,
    "buildpack" TEXT NOT NULL,
    "process_types" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "droplets_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "droplets_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "droplets_build_id_fkey" FOREIGN KEY ("build_id") REFERENCES "builds"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "droplets_build_id_key" ON "droplets"("build_id");
INSERT INTO "droplets" ("app_id", "build_id", "blob_id", "buildpack", "process_types")
  SELECT "app_id", "id", "id"::text, COALESCE("buildpack", 'unknown'), jsonb_build_object('web', "start_command")
  FROM "builds" WHERE "state" = 'STAGED' AND "start_command" IS NOT NULL;

ALTER TABLE "releases" ADD COLUMN "droplet_id" UUID;
ALTER TABLE "releases" ADD COLUMN "env" JSONB NOT NULL DEFAULT '{}';
ALTER TABLE "releases" ADD COLUMN "process_types" JSONB;
ALTER TABLE "releases" ADD COLUMN "description" TEXT;
UPDATE "releases" r SET "droplet_id" = d."id", "process_types" = jsonb_build_object('web', r."start_command"), "description" = 'deploy'
  FROM "droplets" d WHERE d."build_id" = r."build_id";
DELETE FROM "releases" WHERE "droplet_id" IS NULL;
ALTER TABLE "releases" ALTER COLUMN "droplet_id" SET NOT NULL;
ALTER TABLE "releases" ALTER COLUMN "process_types" SET NOT NULL;
ALTER TABLE "releases" ALTER COLUMN "description" SET NOT NULL;
ALTER TABLE "releases" ADD CONSTRAINT "releases_droplet_id_fkey" FOREIGN KEY ("droplet_id") REFERENCES "droplets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "releases" DROP CONSTRAINT "releases_build_id_fkey";
DROP INDEX "releases_build_id_key";
ALTER TABLE "releases" DROP COLUMN "build_id";
ALTER TABLE "releases" DROP COLUMN "start_command";

CREATE TABLE "deployments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app_id" UUID NOT NULL,
    "release_id" UUID NOT NULL,
    "state" "DeploymentState" NOT NULL DEFAULT 'DEPLOYING',
    "reason" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "deployments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "deployments_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "deployments_release_id_fkey" FOREIGN KEY ("release_id") REFERENCES "releases"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "deployments_app_id_created_at_idx" ON "deployments"("app_id", "created_at");
-- At most one deployment of an app runs at a time: a second one is refused (409).
CREATE UNIQUE INDEX "deployments_one_active_per_app" ON "deployments"("app_id") WHERE "state" = 'DEPLOYING';

CREATE TABLE "domains" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "org_id" UUID,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "domains_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "domains_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "domains_name_key" ON "domains"("name");

CREATE TABLE "routes" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "space_id" UUID NOT NULL,
    "domain_id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "path" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "routes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "routes_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "routes_domain_id_fkey" FOREIGN KEY ("domain_id") REFERENCES "domains"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "routes_host_domain_id_path_key" ON "routes"("host", "domain_id", "path");
CREATE INDEX "routes_space_id_idx" ON "routes"("space_id");

CREATE TABLE "route_destinations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "route_id" UUID NOT NULL,
    "app_id" UUID NOT NULL,
    "process_type" TEXT NOT NULL DEFAULT 'web',
    "port" INTEGER NOT NULL DEFAULT 8080,
    "weight" INTEGER,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "route_destinations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "route_destinations_route_id_fkey" FOREIGN KEY ("route_id") REFERENCES "routes"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "route_destinations_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "route_destinations_route_id_app_id_process_type_port_key" ON "route_destinations"("route_id", "app_id", "process_type", "port");
CREATE INDEX "route_destinations_app_id_idx" ON "route_destinations"("app_id");

CREATE TABLE "events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "type" TEXT NOT NULL,
    "actor_id" UUID,
    "actor_name" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "target_name" TEXT NOT NULL,
    "space_id" UUID,
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "events_created_at_idx" ON "events"("created_at");
CREATE INDEX "events_target_id_created_at_idx" ON "events"("target_id", "created_at");
CREATE INDEX "events_space_id_created_at_idx" ON "events"("space_id", "created_at");

-- Apps pushed before routes existed keep answering on NAME.apps.localhost: their default route
-- becomes a route of their space bound to their web process.
INSERT INTO "domains" ("name") SELECT 'apps.localhost' WHERE EXISTS (SELECT 1 FROM "apps");
INSERT INTO "routes" ("space_id", "domain_id", "host", "path")
  SELECT a."space_id", d."id", a."name", '' FROM "apps" a CROSS JOIN "domains" d WHERE d."name" = 'apps.localhost';
INSERT INTO "route_destinations" ("route_id", "app_id", "process_type", "port")
  SELECT r."id", a."id", 'web', 8080 FROM "apps" a JOIN "routes" r ON r."host" = a."name" AND r."space_id" = a."space_id";
