-- Backing services (issue 15, docs/services.md): service instances (a server of a built-in
-- offering on one cell, with its admin login and its last operation) and the bindings of apps to
-- them (each with a login of its own on the server). An instance with bindings cannot be deleted
-- (RESTRICT: the API answers 409 first); deleting an app drops its bindings' logins, then the rows.

CREATE TABLE "service_instances" (
    "id" UUID NOT NULL,
    "space_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "offering" TEXT NOT NULL,
    "plan" TEXT NOT NULL,
    "memory_mb" INTEGER NOT NULL,
    "disk_mb" INTEGER NOT NULL,
    "cell_id" TEXT,
    "admin_user" TEXT NOT NULL,
    "admin_password" TEXT NOT NULL,
    "host" TEXT,
    "port" INTEGER,
    "operation_type" TEXT NOT NULL,
    "operation_state" TEXT NOT NULL,
    "operation_description" TEXT,
    "operation_updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "service_instances_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_instances_operation_type_check" CHECK ("operation_type" IN ('create', 'update', 'delete')),
    CONSTRAINT "service_instances_operation_state_check" CHECK ("operation_state" IN ('in progress', 'succeeded', 'failed')),
    CONSTRAINT "service_instances_space_id_fkey" FOREIGN KEY ("space_id") REFERENCES "spaces"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "service_instances_space_id_name_key" ON "service_instances"("space_id", "name");
CREATE INDEX "service_instances_operation_state_idx" ON "service_instances"("operation_state");

CREATE TABLE "service_bindings" (
    "id" UUID NOT NULL,
    "app_id" UUID NOT NULL,
    "service_instance_id" UUID NOT NULL,
    "username" TEXT NOT NULL,
    "password" TEXT NOT NULL,
    "credentials" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "service_bindings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "service_bindings_app_id_fkey" FOREIGN KEY ("app_id") REFERENCES "apps"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "service_bindings_service_instance_id_fkey" FOREIGN KEY ("service_instance_id") REFERENCES "service_instances"("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "service_bindings_app_id_service_instance_id_key" ON "service_bindings"("app_id", "service_instance_id");
CREATE INDEX "service_bindings_service_instance_id_idx" ON "service_bindings"("service_instance_id");
