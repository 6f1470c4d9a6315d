-- Backing services, second part (issue 15, docs/services.md): user-provided and brokered
-- instances beside the managed ones (`type`), resize and restore operations, backups, service
-- keys and Open Service Brokers. Keys and backups go with their instance (CASCADE; the controller
-- removes the backups' blobs and the keys' logins first); a broker with instances cannot be
-- deleted (RESTRICT: the API answers 409 first).

CREATE TABLE "service_brokers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "password" TEXT NOT NULL,
    "catalog" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "service_brokers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "service_brokers_name_key" ON "service_brokers"("name");

ALTER TABLE "service_instances"
    ADD COLUMN "type" TEXT NOT NULL DEFAULT 'managed',
    ADD COLUMN "backup_retention" INTEGER NOT NULL DEFAULT 7,
    ADD COLUMN "credentials" JSONB,
    ADD COLUMN "tags" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    ADD COLUMN "broker_id" UUID,
    ADD COLUMN "broker_service_id" TEXT,
    ADD COLUMN "broker_plan_id" TEXT,
    ADD COLUMN "broker_operation" TEXT,
    ADD COLUMN "dashboard_url" TEXT,
    ADD COLUMN "restore_backup_id" UUID,
    ADD CONSTRAINT "service_instances_type_check" CHECK ("type" IN ('managed', 'user-provided', 'brokered')),
    ADD CONSTRAINT "service_instances_backup_retention_check" CHECK ("backup_retention" BETWEEN 0 AND 100),
    ADD CONSTRAINT "service_instances_broker_id_fkey" FOREIGN KEY ("broker_id") REFERENCES "service_brokers"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    DROP CONSTRAINT "service_instances_operation_type_check",
    ADD CONSTRAINT "service_instances_operation_type_check" CHECK ("operation_type" IN ('create', 'update', 'delete', 'restore'));
CREATE INDEX "service_instances_broker_id_idx" ON "service_instances"("broker_id");

ALTER TABLE "service_bindings"
    ALTER COLUMN "username" DROP NOT NULL,
    ALTER COLUMN "password" DROP NOT NULL;

CREATE TABLE "service_keys" (
    "id" UUID NOT NULL,
    "service_instance_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "username" TEXT,
    "password" TEXT,
    "credentials" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "service_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_keys_service_instance_id_fkey" FOREIGN KEY ("service_instance_id") REFERENCES "service_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "service_keys_service_instance_id_name_key" ON "service_keys"("service_instance_id", "name");

CREATE TABLE "service_backups" (
    "id" UUID NOT NULL,
    "service_instance_id" UUID NOT NULL,
    "trigger" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "size_bytes" BIGINT,
    "sha256" TEXT,
    "duration_ms" INTEGER,
    "error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),
    CONSTRAINT "service_backups_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_backups_trigger_check" CHECK ("trigger" IN ('scheduled', 'manual')),
    CONSTRAINT "service_backups_state_check" CHECK ("state" IN ('in progress', 'succeeded', 'failed')),
    CONSTRAINT "service_backups_format_check" CHECK ("format" IN ('pg_dump', 'rdb')),
    CONSTRAINT "service_backups_service_instance_id_fkey" FOREIGN KEY ("service_instance_id") REFERENCES "service_instances"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "service_backups_service_instance_id_created_at_idx" ON "service_backups"("service_instance_id", "created_at");
