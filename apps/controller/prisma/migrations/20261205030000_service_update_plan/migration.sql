-- Resizing a managed instance (PATCH /v1/service_instances/:instance {plan}, docs/services.md):
-- while an update runs the record keeps the plan in force (plan, memory_mb, disk_mb) and names
-- the plan asked for here; the provisioning pass moves it over once the cell reports the new
-- sizes, and clears it when the update fails (the old plan stays in force, as on Cloud Foundry).
ALTER TABLE "service_instances" ADD COLUMN "update_plan" TEXT;
