CREATE TYPE "AppState" AS ENUM ('STARTED', 'STOPPED');
CREATE TYPE "BuildState" AS ENUM ('STAGING', 'STAGED', 'FAILED');

CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");

CREATE TABLE "apps" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "state" "AppState" NOT NULL DEFAULT 'STARTED',
    "instances" INTEGER NOT NULL DEFAULT 1,
    "memory_mb" INTEGER NOT NULL DEFAULT 256,
    "current_release_id" UUID,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "apps_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "apps_name_key" ON "apps"("name");

CREATE TABLE "builds" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app_id" UUID NOT NULL,
    "commit_sha" TEXT NOT NULL,
    "state" "BuildState" NOT NULL DEFAULT 'STAGING',
    "error" TEXT,
    "buildpack" TEXT,
    "start_command" TEXT,
    "cell_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "builds_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "builds_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "builds_app_id_created_at_idx" ON "builds"("app_id", "created_at");

CREATE TABLE "releases" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "app_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "build_id" UUID NOT NULL,
    "start_command" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "releases_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "releases_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "releases_build_id_fkey" FOREIGN KEY ("build_id") REFERENCES "builds"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "releases_build_id_key" ON "releases"("build_id");
CREATE UNIQUE INDEX "releases_app_id_version_key" ON "releases"("app_id", "version");
